// The relay with relay.dataPlane 'native' (the C++ plane, built by
// `npm run build:native`): real relay, real UDP sockets on loopback, checked
// from the client's and the peer's side and through the metrics endpoint.
import { createSocket } from 'node:dgram';
import { NativeDataPlane } from '../../../relay/dataplane/native/native-data-plane.js';
import { loadNativeAddon } from '../../../relay/dataplane/native/native-addon.js';
import { decodeStunMessage } from '../../../relay/stun/message.js';
import { AttributeType, MessageClass, Method } from '../../../relay/stun/constants.js';
import { decodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { isSuccess, TurnTestClient } from './helpers/turn-test-client.js';
import { metricsText, metricValue, PASSWORD, sleep, startPeer, startTestRelay, USER, type TestRelay } from './helpers/test-relay.js';

const udpSeries = (direction: string) => `turnrelay_relayed_packets_total{transport="udp",direction="${direction}"}`;
const dropped = (reason: string) => `turnrelay_dropped_packets_total{reason="${reason}"}`;

/** The next message must be a well-formed Data indication (type 0x0017, length matching the datagram). */
async function nextDataIndication(c: TurnTestClient): Promise<{ data: string; peer: { address: string; port: number } }> {
  const { buf } = await c.next();
  expect(buf.readUInt16BE(0)).toBe(0x0017);
  expect(buf.readUInt16BE(2) + 20).toBe(buf.length);
  const m = decodeStunMessage(buf);
  expect([m.method, m.cls]).toEqual([Method.Data, MessageClass.Indication]);
  const { address, port } = decodeXorAddress(m.get(AttributeType.XorPeerAddress)!, m.transactionId);
  return { data: m.get(AttributeType.Data)!.toString(), peer: { address, port } };
}

/** True when `port` can be bound again on 127.0.0.1, i.e. no socket holds it. */
async function portIsFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve()); });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

describe('native data plane', () => {
  let t: TestRelay;
  beforeAll(async () => { t = await startTestRelay({ relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, dataPlane: 'native' } }); });
  afterAll(async () => { await t.stop(); });

  test('the relay runs on the native plane', () => {
    expect(t.relay.turn.ctx.dataPlane).toBeInstanceOf(NativeDataPlane);
  });

  test('UDP: Send/Data indications and ChannelData both ways, counted', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const before = await metricsText(t.relay);
      const res = await c.allocate(USER, PASSWORD);
      expect(isSuccess(res)).toBe(true);
      const relayed = c.relayedAddress(res);
      expect(isSuccess(await c.createPermission(peer))).toBe(true);

      c.sendIndication(peer, Buffer.from('via send indication'));
      const got = await peer.next();
      expect(got.data.toString()).toBe('via send indication');
      expect(got.port).toBe(relayed.port);

      peer.socket.send(Buffer.from('back as data indication'), relayed.port, relayed.address);
      expect(await nextDataIndication(c)).toEqual({ data: 'back as data indication', peer: { address: peer.address, port: peer.port } });
      peer.socket.send(Buffer.from('odd'), relayed.port, relayed.address); // padded to 4 bytes
      expect(await nextDataIndication(c)).toEqual({ data: 'odd', peer: { address: peer.address, port: peer.port } });

      expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
      const odd = Buffer.from('channel data, odd length!');
      c.sendChannelData(0x4001, odd);
      const forwarded = await peer.next();
      expect(forwarded.data).toEqual(odd);
      expect(forwarded.port).toBe(relayed.port);
      peer.socket.send(Buffer.from('back on channel 0x4001'), relayed.port, relayed.address);
      const back = await c.nextData();
      expect(back).toMatchObject({ channel: 0x4001 });
      expect(back.data.toString()).toBe('back on channel 0x4001');

      const after = await metricsText(t.relay);
      const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
      expect(delta(udpSeries('client_to_peer'))).toBe(2);
      expect(delta(udpSeries('peer_to_client'))).toBe(3);
      expect(metricValue(after, 'turnrelay_relayed_bytes_total{transport="udp",direction="client_to_peer"}')
        - metricValue(before, 'turnrelay_relayed_bytes_total{transport="udp",direction="client_to_peer"}')).toBe('via send indication'.length + odd.length);
      await c.refresh(0);
    } finally {
      c.close();
      peer.close();
    }
  });

  test('2000 ChannelData packets each way, in bursts of 100, arrive complete and in order', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4100, peer))).toBe(true);
      const packet = (i: number) => { const p = Buffer.alloc(160, i & 0xff); p.writeUInt32BE(i, 0); return p; };
      // Each burst is read before the next is sent: the receivers here are Node
      // sockets in this busy process, and their kernel buffers (not the relay)
      // would otherwise be what drops packets.
      for (let burst = 0; burst < 2000; burst += 100) {
        for (let i = burst; i < burst + 100; i++) c.sendChannelData(0x4100, packet(i));
        for (let i = burst; i < burst + 100; i++) expect((await peer.next()).data).toEqual(packet(i));
      }
      for (let burst = 0; burst < 2000; burst += 100) {
        for (let i = burst; i < burst + 100; i++) peer.socket.send(packet(i), relayed.port, relayed.address);
        for (let i = burst; i < burst + 100; i++) {
          const got = await c.nextData();
          expect(got.channel).toBe(0x4100);
          expect(got.data).toEqual(packet(i));
        }
      }
      await c.refresh(0);
    } finally {
      c.close();
      peer.close();
    }
  });

  test('peer data without a permission and ChannelData on an unbound channel are dropped and counted', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const stranger = await startPeer();
    const peer = await startPeer();
    try {
      const before = await metricsText(t.relay);
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      // Permissions are per IP: the stranger (127.0.0.1) has none, 127.0.0.2 has one.
      expect(isSuccess(await c.createPermission({ address: '127.0.0.2', port: 1 }))).toBe(true);
      stranger.socket.send(Buffer.from('unsolicited'), relayed.port, relayed.address);
      await expect(c.nextData(300)).rejects.toThrow(/timed out/);

      c.sendChannelData(0x4abc, Buffer.from('no such channel'));
      await expect(peer.next(300)).rejects.toThrow(/received nothing/);
      await expect(stranger.next(50)).rejects.toThrow(/received nothing/);

      const after = await metricsText(t.relay);
      expect(metricValue(after, dropped('no_permission')) - metricValue(before, dropped('no_permission'))).toBe(1);
      expect(metricValue(after, dropped('no_channel')) - metricValue(before, dropped('no_channel'))).toBe(1);
      expect(metricValue(after, udpSeries('peer_to_client'))).toBe(metricValue(before, udpSeries('peer_to_client')));
      await c.refresh(0);
    } finally {
      c.close();
      stranger.close();
      peer.close();
    }
  });

  test('deleting the allocation closes its relay socket and stops forwarding', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4002, peer))).toBe(true);
      expect(await portIsFree(relayed.port)).toBe(false);
      expect(isSuccess(await c.refresh(0))).toBe(true);
      expect(await portIsFree(relayed.port)).toBe(true);
      c.sendChannelData(0x4002, Buffer.from('after teardown'));
      await expect(peer.next(300)).rejects.toThrow(/received nothing/);
    } finally {
      c.close();
      peer.close();
    }
  });

  test('TCP clients keep working (their allocations stay on the Node plane)', async () => {
    const c = await TurnTestClient.stream('tcp', t.port('tcp'));
    const peer = await startPeer();
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4003, peer))).toBe(true);
      c.sendChannelData(0x4003, Buffer.from('over tcp'));
      expect((await peer.next()).data.toString()).toBe('over tcp');
      peer.socket.send(Buffer.from('back over tcp'), relayed.port, relayed.address);
      expect((await c.nextData()).data.toString()).toBe('back over tcp');
      await c.refresh(0);
    } finally {
      c.close();
      peer.close();
    }
  });
});

test('a missing addon is a startup error that names npm run build:native', () => {
  expect(() => loadNativeAddon('/nonexistent/turnrelay_dataplane.node')).toThrow(/not built .*run `npm run build:native`/);
});

describe('native data plane limits', () => {
  test('the per-allocation bitrate cap drops excess packets in both directions', async () => {
    const t = await startTestRelay({ relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, dataPlane: 'native' }, limits: { maxBitrateKbps: 8 } }); // 1000 bytes/s
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4004, peer))).toBe(true);
      for (let i = 0; i < 20; i++) c.sendChannelData(0x4004, Buffer.alloc(400, i));
      for (let i = 0; i < 20; i++) peer.socket.send(Buffer.alloc(400, i), relayed.port, relayed.address);
      await sleep(300);
      // The first second's budget (1000 bytes) passes two 400-byte packets in total.
      expect(peer.received.length).toBeGreaterThan(0);
      expect(peer.received.length).toBeLessThan(20);
      expect(metricValue(await metricsText(t.relay), dropped('rate_limited'))).toBeGreaterThanOrEqual(30);
    } finally {
      c.close();
      peer.close();
      await t.stop();
    }
  });

  test('IPv6: ChannelData and Data indications through a native IPv6 listener and relay', async () => {
    const t = await startTestRelay({
      listeners: [{ protocol: 'udp', host: '::1', port: 0 }],
      relay: { host: '127.0.0.1', host6: '::1', portRange: { min: 50000, max: 59999 }, dataPlane: 'native' },
      peers: { allowCIDRs: ['::1/128'] },
    });
    const c = await TurnTestClient.udp(t.port('udp'), '::1');
    const peer = await startPeer('::1');
    try {
      const res = await c.allocate(USER, PASSWORD, [[0x0017, Buffer.from([2, 0, 0, 0])]]); // REQUESTED-ADDRESS-FAMILY IPv6
      expect(isSuccess(res)).toBe(true);
      const relayed = c.relayedAddress(res);
      expect(relayed.address).toBe('::1');
      expect(isSuccess(await c.createPermission(peer))).toBe(true);
      peer.socket.send(Buffer.from('v6 data indication'), relayed.port, relayed.address);
      expect(await nextDataIndication(c)).toEqual({ data: 'v6 data indication', peer: { address: '::1', port: peer.port } });
      expect(isSuccess(await c.channelBind(0x4005, peer))).toBe(true);
      c.sendChannelData(0x4005, Buffer.from('v6 channel'));
      expect((await peer.next()).data.toString()).toBe('v6 channel');
      await c.refresh(0);
    } finally {
      c.close();
      peer.close();
      await t.stop();
    }
  });
});
