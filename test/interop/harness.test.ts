// The interop tests trust a few parsers of their own; these checks make sure
// they can say "no" (a missing uclient report, a non-DTLS datagram) and read
// real formats (pcap, DTLS 1.2 and 1.3 record headers, Prometheus text).
import { dtlsRecords, isStunMessage } from './harness/dtls-records.js';
import { readPcap } from './harness/pcap.js';
import { sumSamples } from './harness/prometheus-text.js';
import { parseUclientReport } from './harness/uclient-report.js';
import { redactArgs, refusedRandomChannel, uclientArgs } from './harness/uclient.js';

describe('parseUclientReport', () => {
  test('reads the final totals', () => {
    const output = [
      '3: : start_mclient: msz=2, tot_send_msgs=41, tot_recv_msgs=40, tot_send_bytes ~ 4920, tot_recv_bytes ~ 4800',
      '5: : start_mclient: tot_send_msgs=50, tot_recv_msgs=48',
      '5: : Total transmit time is 5',
      '5: : Total lost packets 2 (4.000000%), total send dropped 0 (0.000000%)',
    ].join('\n');
    expect(parseUclientReport(output)).toEqual({
      sent: 50,
      received: 48,
      lost: 2,
      sendDropped: 0,
      transmitSeconds: 5,
      relayedAddresses: [],
    });
  });

  test('reads the relayed addresses a verbose run prints', () => {
    const output = [
      '0: : IPv4. Received relay addr: 10.78.0.240:50012',
      '0: : IPv4. Received relay addr: 10.78.0.240:50013',
      '5: : start_mclient: tot_send_msgs=2, tot_recv_msgs=2',
      '5: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)',
    ].join('\n');
    expect(parseUclientReport(output).relayedAddresses).toEqual(['10.78.0.240:50012', '10.78.0.240:50013']);
  });

  test('a run without a report is an error, not zero loss', () => {
    expect(() => parseUclientReport('0: : ERROR: Cannot complete Allocation\n')).toThrow(/no final report/);
  });
});

describe('dtlsRecords', () => {
  const record = (type: number, version: number, body: number) =>
    Buffer.concat([
      Buffer.from([type, version >> 8, version & 0xff, 0, 0, 0, 0, 0, 0, 0, 1, body >> 8, body & 0xff]),
      Buffer.alloc(body, 7),
    ]);

  test('accepts DTLS 1.2 records filling the datagram', () => {
    const datagram = Buffer.concat([record(22, 0xfefd, 40), record(20, 0xfefd, 1)]);
    expect(dtlsRecords(datagram)?.map((r) => r.format === 'dtls-plaintext' && r.contentType)).toEqual([22, 20]);
  });

  test('accepts a DTLS 1.3 unified header with and without a length', () => {
    const withLength = Buffer.concat([Buffer.from([0x2e, 0x12, 0x34, 0x00, 0x10]), Buffer.alloc(16, 1)]);
    const withoutLength = Buffer.concat([Buffer.from([0x2b, 0x12, 0x34]), Buffer.alloc(30, 1)]);
    expect(dtlsRecords(withLength)).toEqual([{ format: 'dtls13-ciphertext', epochBits: 2, length: 16 }]);
    expect(dtlsRecords(withoutLength)).toEqual([{ format: 'dtls13-ciphertext', epochBits: 3, length: 30 }]);
  });

  test('rejects plaintext, truncated records and other versions', () => {
    expect(dtlsRecords(Buffer.from('PLAINTEXT-marker sent over the data channel'))).toBeUndefined();
    expect(dtlsRecords(record(23, 0xfefd, 40).subarray(0, 30))).toBeUndefined();
    expect(dtlsRecords(record(23, 0x0303, 40))).toBeUndefined(); // TLS, not DTLS
  });

  test('tells STUN apart', () => {
    const binding = Buffer.alloc(20);
    binding.writeUInt16BE(0x0001, 0);
    binding.writeUInt32BE(0x2112a442, 4);
    expect(isStunMessage(binding)).toBe(true);
    expect(dtlsRecords(binding)).toBeUndefined();
  });
});

test('readPcap extracts UDP payloads from an Ethernet-framed IPv4 capture', () => {
  const payload = Buffer.from('hello');
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(50000, 0);
  udp.writeUInt16BE(3478, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[9] = 17;
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 1, 2, 3]).copy(ip, 16);
  const frame = Buffer.concat([Buffer.alloc(14), ip, udp, payload]);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const recordHeader = Buffer.alloc(16);
  recordHeader.writeUInt32LE(frame.length, 8);
  recordHeader.writeUInt32LE(frame.length, 12);
  expect(readPcap(Buffer.concat([header, recordHeader, frame]))).toEqual([
    { protocol: 'udp', src: '127.0.0.1', srcPort: 50000, dst: '127.1.2.3', dstPort: 3478, payload },
  ]);
  expect(() => readPcap(Buffer.alloc(24))).toThrow(/not a classic pcap/);
});

test('sumSamples adds the samples whose labels match', () => {
  const text = [
    '# TYPE turnrelay_relayed_packets_total counter',
    'turnrelay_relayed_packets_total{transport="udp",direction="client_to_peer"} 5',
    'turnrelay_relayed_packets_total{transport="tcp",direction="client_to_peer"} 7',
    'turnrelay_relayed_packets_total{transport="udp",direction="peer_to_client"} 11',
  ].join('\n');
  expect(sumSamples(text, 'turnrelay_relayed_packets_total')).toBe(23);
  expect(sumSamples(text, 'turnrelay_relayed_packets_total', { transport: 'udp' })).toBe(16);
  expect(sumSamples(text, 'turnrelay_relayed_packets_total', { direction: 'client_to_peer', transport: 'tcp' })).toBe(
    7,
  );
});

test('uclient arguments follow the scenario and never leak secrets into messages', () => {
  const args = uclientArgs({
    server: { host: '127.0.0.5', port: 3478 },
    transport: 'tls',
    method: 'send-indication',
    auth: { kind: 'rest-secret', user: 'bob', secret: 's3cr3t' },
    peer: { kind: 'client-to-client' },
    sessions: 2,
    messages: 10,
    size: 120,
    intervalMs: 50,
    timeoutMs: 1000,
  });
  expect(args).toEqual(expect.arrayContaining(['-t', '-S', '-s', '-y', '-W', 's3cr3t', '-z', '50']));
  expect(args.slice(-3)).toEqual(['-p', '3478', '127.0.0.5']);
  expect(redactArgs(args)).not.toContain('s3cr3t');
});

test('only a refused channel bind makes a uclient run worth repeating', () => {
  const bind = (outcome: string) =>
    `0: : channel bind sent\n0: : cb response received: \n0: : success: 0x4e33\n0: : channel bind sent\n0: : cb response received: \n0: : ${outcome}\n`;
  expect(refusedRandomChannel(bind('channel bind: error 400 (Bad Request)'))).toBe(true);
  expect(refusedRandomChannel(bind('channel bind: error 403 (Forbidden)'))).toBe(false);
  expect(refusedRandomChannel(bind('success: 0x4e33'))).toBe(false);
  expect(refusedRandomChannel('0: : allocate response received: \n0: : error 400 (Bad Request)\n')).toBe(false);
});
