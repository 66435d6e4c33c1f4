// What does the relay actually forward? During a Chromium data-channel run
// through our relay, capture every UDP datagram on the relay's own loopback
// address and check that relayed traffic is only STUN connectivity checks and
// DTLS records, and that the plaintext sent over the data channel never
// appears anywhere on the wire. Relayed traffic is what crosses from relay
// port to relay port, and the payload of the ChannelData between a UDP
// client and the listener: both browsers' allocations live on this relay, so
// the plane may hand a datagram from one to the other in process, and then
// only the client legs carry it. A control datagram carrying a second marker
// in the clear proves the search would find it.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { decodeChannelData } from '../../relay/stun/channel-data.js';
import { AttributeType, MessageClass, Method } from '../../relay/stun/constants.js';
import { decodeStunMessage } from '../../relay/stun/message.js';
import { startLoopbackCapture } from './harness/capture.js';
import { ChildSet } from './harness/children.js';
import { launchChromium, runTurnPair } from './harness/chromium.js';
import { dtlsRecords, isStunMessage } from './harness/dtls-records.js';
import { startTestRelay, type TestRelay } from './harness/our-relay.js';
import type { CapturedPacket } from './harness/pcap.js';
import { randomPortBlock } from './harness/ports.js';
import { randomLoopbackAddress } from './harness/relay-config-files.js';
import { mintRestCredential } from './harness/rest-credential.js';
import { requireTools } from './harness/tools.js';

requireTools(['chromium', 'tcpdump', 'openssl']);

const host = randomLoopbackAddress();
const portRange = randomPortBlock();
const secret = randomBytes(24).toString('base64');
const marker = `PLAINTEXT-${randomBytes(16).toString('hex')}`;
const control = `CONTROL-${randomBytes(16).toString('hex')}`;
const children = new ChildSet();
let dir: string | undefined;
let relay: TestRelay | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await children.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 20_000);

test('the relay forwards only DTLS and STUN, never the data-channel plaintext', async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-capture-'));
  relay = await startTestRelay({
    dir,
    host,
    listeners: ['udp', 'tcp', 'tls'],
    secrets: [secret],
    portRange,
    allowCIDRs: [`${host}/32`],
  });
  const capture = await startLoopbackCapture(children, join(dir, 'relay.pcap'), `udp and host ${host}`);
  browser = await launchChromium();
  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    const { host: h, port } = relay.endpoint(transport);
    const urls = transport === 'tls' ? `turns:${h}:${port}?transport=tcp` : `turn:${h}:${port}?transport=${transport}`;
    const result = await runTurnPair(browser, {
      iceServer: { urls, ...mintRestCredential(secret, 'capture', 600) },
      messages: 200,
      marker,
      timeoutMs: 30_000,
    });
    expect(result.echoes).toBe(200);
  }
  await sendControlDatagram(host, portRange.min, control);
  const packets = await capture.stop();

  const inRange = (port: number) => port >= portRange.min && port <= portRange.max;
  const udpListener = relay.endpoint('udp').port;
  const relayed = [
    ...packets.filter((p) => inRange(p.srcPort) && inRange(p.dstPort) && !p.payload.includes(control)),
    ...packets.flatMap((p) => {
      const inner = p.srcPort === udpListener || p.dstPort === udpListener ? carried(p.payload) : undefined;
      return inner ? [{ ...p, payload: inner }] : [];
    }),
  ];
  const unexpected = relayed.filter((p) => !isStunMessage(p.payload) && !dtlsRecords(p.payload));
  const records = relayed.flatMap((p) => dtlsRecords(p.payload) ?? []);
  const dtls12Style = records.flatMap((r) => (r.format === 'dtls-plaintext' && r.version === 0xfefd ? [r] : []));

  expect(packets.some((p) => p.payload.includes(control))).toBe(true);
  expect(summarize(unexpected)).toEqual([]);
  expect(dtls12Style.some((r) => r.contentType === 22)).toBe(true); // DTLS handshake records
  // Application data: DTLS 1.2 content type 23 or DTLS 1.3 encrypted records.
  expect(records.some((r) => r.format === 'dtls13-ciphertext' || r.contentType === 23)).toBe(true);
  expect(packets.filter((p) => p.payload.includes(marker)).map((p) => `${p.srcPort}->${p.dstPort}`)).toEqual([]);
}, 120_000);

function sendControlDatagram(address: string, port: number, text: string): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) =>
    socket.send(Buffer.from(text), port, address, (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

/** What a UDP client leg carries for a peer: a ChannelData payload, or the DATA of a Send or Data indication. */
function carried(datagram: Buffer): Buffer | undefined {
  const channelData = decodeChannelData(datagram);
  if (channelData) return channelData.data;
  if (!isStunMessage(datagram)) return undefined;
  const m = decodeStunMessage(datagram);
  return m.cls === MessageClass.Indication && (m.method === Method.Send || m.method === Method.Data)
    ? m.get(AttributeType.Data)
    : undefined;
}

function summarize(packets: CapturedPacket[]): string[] {
  return packets.slice(0, 5).map((p) => `${p.srcPort}->${p.dstPort} ${p.payload.subarray(0, 16).toString('hex')}`);
}
