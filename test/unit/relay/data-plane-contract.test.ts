// The relaying contract every data plane keeps, run against each of them: the
// JavaScript plane, the native plane on one thread and on two. Real relay
// (startRelay), real UDP and TCP sockets on loopback, checked from the
// client's and the peer's side and through the metrics endpoint. The same
// file runs under AddressSanitizer/UBSan (scripts/test-native-sanitize.sh).
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { NativeDataPlane } from '../../../relay/dataplane/native/native-data-plane.js';
import { LISTENER_SOCKET_BUFFER } from '../../../relay/dataplane/js-udp-listener.js';
import { decodeStunMessage, type StunMessage } from '../../../relay/stun/message.js';
import { AttributeType, MessageClass, Method } from '../../../relay/stun/constants.js';
import { decodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { isSuccess, TurnTestClient } from './helpers/turn-test-client.js';
import {
  metricsText,
  metricDelta,
  metricValue,
  PASSWORD,
  sleep,
  startPeer,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

type PlaneCase = { name: string; relay: { dataPlane: 'node' | 'native'; threads?: number } };
const PLANES: PlaneCase[] = [
  { name: 'node', relay: { dataPlane: 'node' } },
  { name: 'native, 1 thread', relay: { dataPlane: 'native', threads: 1 } },
  { name: 'native, 2 threads', relay: { dataPlane: 'native', threads: 2 } },
];

const MIB = 1024 * 1024;
const udpSeries = (direction: string) => `turnrelay_relayed_packets_total{transport="udp",direction="${direction}"}`;
const dropped = (reason: string) => `turnrelay_dropped_packets_total{reason="${reason}"}`;
const IN_PROCESS = 'turnrelay_relayed_in_process_packets_total';
const relayOptions = (plane: PlaneCase) => ({
  host: '127.0.0.1',
  portRange: { min: 50000, max: 59999 },
  ...plane.relay,
});

/** The thread the allocation at a relayed port relays on (single-thread planes: 0). */
function laneOf(t: TestRelay, relayedPort: number): number | undefined {
  const dp = t.relay.turn.ctx.dataPlane;
  const allocation = [...t.relay.turn.ctx.allocations.values()].find((a) => a.relayed.port === relayedPort);
  if (!allocation) throw new Error(`no allocation at relayed port ${relayedPort}`);
  return dp.name === 'native' ? (dp as NativeDataPlane).laneOf(allocation.endpoint) : 0;
}

/** The next message must be a well-formed Data indication (type 0x0017, length matching the datagram). */
async function nextDataIndication(
  c: TurnTestClient,
): Promise<{ data: string; peer: { address: string; port: number } }> {
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
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

/** Polls until `port` is free (the owning thread closes a relay socket once it applied the close); false after ~0.5 s. */
async function waitUntilPortIsFree(port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await portIsFree(port)) return true;
    await sleep(10);
  }
  return portIsFree(port);
}

/** Two UDP clients of the relay, each with an allocation. */
type Lanes = 'one thread' | 'two threads';

/**
 * Two UDP clients with an allocation each, on one thread of the plane or on two. The kernel
 * spreads clients over the threads' sockets by address hash, so new clients are tried until
 * one lands as asked (a single-thread plane only has 'one thread').
 */
async function allocatedPair(t: TestRelay, lanes: Lanes = 'one thread') {
  const a = await TurnTestClient.udp(t.port('udp'));
  const ra = a.relayedAddress(await a.allocate(USER, PASSWORD));
  for (let attempt = 0; attempt < 40; attempt++) {
    const b = await TurnTestClient.udp(t.port('udp'));
    const rb = b.relayedAddress(await b.allocate(USER, PASSWORD));
    if ((laneOf(t, ra.port) === laneOf(t, rb.port)) === (lanes === 'one thread')) return { a, b, ra, rb };
    await b.refresh(0);
    b.close();
  }
  a.close();
  throw new Error(`40 clients in a row did not land on ${lanes} with the first`);
}

/** The pairings a plane can have: both allocations on one thread, and with two threads, on two. */
const pairings = (plane: PlaneCase): Lanes[] =>
  (plane.relay.threads ?? 1) > 1 ? ['one thread', 'two threads'] : ['one thread'];

/**
 * A STUN-shaped datagram of `size` bytes: the 20-byte `header` of a Send indication, then
 * junk. With `lying`, its length field claims more than the datagram holds.
 */
function stunShaped(header: Buffer, size: number, fill: number, lying: boolean): Buffer {
  const d = Buffer.alloc(size, fill);
  header.copy(d, 0, 0, 20);
  d.writeUInt16BE(lying ? 0xfffc : size - 20, 2);
  return d;
}

// Sends its stdin as one datagram, argv[2] times, to 127.0.0.1:argv[1], one send after the
// other, pausing a millisecond after every 32: the receiving thread keeps up, so what the
// flood tests is the relay's queue, not the kernel dropping what a socket buffer cannot hold.
const FLOODER = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  const datagram = Buffer.concat(chunks);
  const port = Number(process.argv[1]);
  let left = Number(process.argv[2]);
  const socket = require('node:dgram').createSocket('udp4');
  const send = () => socket.send(datagram, port, '127.0.0.1', next);
  function next(err) {
    if (err) throw err;
    if (left === 0) return socket.close();
    left--;
    if (left % 32 === 0) setTimeout(send, 1);
    else send();
  }
  next();
});`;

/**
 * Floods 127.0.0.1:`port` with `count` copies of `datagram` from a child process and
 * blocks this thread until it is done: the relay's JavaScript (which runs on this thread)
 * handles nothing meanwhile, so whatever the data plane takes in has to wait for it.
 */
function floodWhileJsIsBusy(port: number, datagram: Buffer, count: number): void {
  const run = spawnSync(process.execPath, ['-e', FLOODER, String(port), String(count)], {
    input: datagram,
    timeout: 30_000,
    env: { PATH: process.env['PATH'] },
  });
  if (run.status !== 0) throw new Error(`flooder failed (${run.status ?? run.signal}): ${run.stderr.toString()}`);
}

/** A fresh client that allocates, binds a channel to a fresh peer and relays one packet each way. */
async function expectServing(t: TestRelay, channel = 0x4ff0): Promise<void> {
  const c = await TurnTestClient.udp(t.port('udp'));
  const peer = await startPeer();
  try {
    const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
    expect(isSuccess(await c.channelBind(channel, peer))).toBe(true);
    c.sendChannelData(channel, Buffer.from('still serving'));
    expect((await peer.next()).data.toString()).toBe('still serving');
    peer.socket.send(Buffer.from('and back'), relayed.port, relayed.address);
    expect((await c.nextData()).data.toString()).toBe('and back');
    await c.refresh(0);
  } finally {
    c.close();
    peer.close();
  }
}

describe.each(PLANES)('data plane contract: $name', (plane) => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({ relay: relayOptions(plane), limits: { maxAllocationsPerUser: 100 } });
    expect(t.relay.turn.ctx.dataPlane).toMatchObject({
      name: plane.relay.dataPlane,
      threads: plane.relay.threads ?? 1,
    });
  });
  afterAll(async () => {
    await t.stop();
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
      expect(await nextDataIndication(c)).toEqual({
        data: 'back as data indication',
        peer: { address: peer.address, port: peer.port },
      });
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
      expect(metricDelta(before, after, udpSeries('client_to_peer'))).toBe(2);
      expect(metricDelta(before, after, udpSeries('peer_to_client'))).toBe(3);
      expect(
        metricDelta(before, after, 'turnrelay_relayed_bytes_total{transport="udp",direction="client_to_peer"}'),
      ).toBe('via send indication'.length + odd.length);
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
      const packet = (i: number) => {
        const p = Buffer.alloc(160, i & 0xff);
        p.writeUInt32BE(i, 0);
        return p;
      };
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

  test('bursts on 16 allocations at once, some datagrams large, reach every client and peer intact and in order', async () => {
    // Peer data arriving on many relay sockets together leaves through the client socket in
    // shared sends, from receive slots that must not be reused before those sends are made;
    // 16 x 24 datagrams per burst are more than one wakeup's slots hold.
    const n = 16;
    const perBurst = 24;
    const clients = await Promise.all(Array.from({ length: n }, () => TurnTestClient.udp(t.port('udp'))));
    const peers = await Promise.all(Array.from({ length: n }, () => startPeer()));
    try {
      const relayed = [];
      for (const [i, c] of clients.entries()) {
        relayed.push(c.relayedAddress(await c.allocate(USER, PASSWORD)));
        expect(isSuccess(await c.channelBind(0x4300 + i, peers[i]!))).toBe(true);
      }
      // Allocation, sequence number and a size that differs per packet (every 8th one 4000 bytes).
      const packet = (allocation: number, seq: number) => {
        const p = Buffer.alloc(seq % 8 === 7 ? 4000 : 20 + ((seq * 37 + allocation * 11) % 700), allocation ^ seq);
        p.writeUInt16BE(allocation, 0);
        p.writeUInt32BE(seq, 2);
        return p;
      };
      // Which packet arrived first (readable on failure), then every byte (toEqual on a Buffer is too slow here).
      const expectPacket = (got: Buffer, want: Buffer) => {
        expect([got.readUInt16BE(0), got.readUInt32BE(2), got.length]).toEqual([
          want.readUInt16BE(0),
          want.readUInt32BE(2),
          want.length,
        ]);
        expect(got.equals(want)).toBe(true);
      };
      for (let burst = 0; burst < 3; burst++) {
        const seqs = Array.from({ length: perBurst }, (_, k) => burst * perBurst + k);
        for (const seq of seqs)
          for (const [i, r] of relayed.entries()) peers[i]!.socket.send(packet(i, seq), r.port, r.address);
        for (const [i, c] of clients.entries())
          for (const seq of seqs) {
            const got = await c.nextData();
            expect(got.channel).toBe(0x4300 + i);
            expectPacket(got.data, packet(i, seq));
          }
        for (const seq of seqs) for (const [i, c] of clients.entries()) c.sendChannelData(0x4300 + i, packet(i, seq));
        for (const [i, peer] of peers.entries())
          for (const seq of seqs) {
            const got = await peer.next();
            expect(got.port).toBe(relayed[i]!.port);
            expectPacket(got.data, packet(i, seq));
          }
      }
      await Promise.all(clients.map((c) => c.refresh(0)));
    } finally {
      for (const c of clients) c.close();
      for (const p of peers) p.close();
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
      expect(metricDelta(before, after, dropped('no_permission'))).toBe(1);
      expect(metricDelta(before, after, dropped('no_channel'))).toBe(1);
      expect(metricValue(after, udpSeries('peer_to_client'))).toBe(metricValue(before, udpSeries('peer_to_client')));
      await c.refresh(0);
    } finally {
      c.close();
      stranger.close();
      peer.close();
    }
  });

  test('revoking by expiry: a permission that ran out stops ChannelData and peer data', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4010, peer))).toBe(true);
      // Expire the permission and channel from JS, as the lifetime timers do.
      const allocation = [...t.relay.turn.ctx.allocations.values()].find((a) => a.relayed.port === relayed.port)!;
      allocation.endpoint.permit(peer.address, Date.now() - 1);
      c.sendChannelData(0x4010, Buffer.from('expired'));
      peer.socket.send(Buffer.from('expired too'), relayed.port, relayed.address);
      await expect(peer.next(300)).rejects.toThrow(/received nothing/);
      await expect(c.nextData(100)).rejects.toThrow(/timed out/);
      allocation.endpoint.permit(peer.address, Date.now() + 60_000);
      c.sendChannelData(0x4010, Buffer.from('renewed'));
      expect((await peer.next()).data.toString()).toBe('renewed');
      await c.refresh(0);
    } finally {
      c.close();
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
      expect(await waitUntilPortIsFree(relayed.port)).toBe(true);
      c.sendChannelData(0x4002, Buffer.from('after teardown'));
      await expect(peer.next(300)).rejects.toThrow(/received nothing/);
    } finally {
      c.close();
      peer.close();
    }
  });

  // Both call parties on this relay: each allocation's peer is the other's relayed address.
  // Where both live on one thread, the plane hands the datagram over in process (the kernel
  // would deliver it to that very socket); across threads it goes through the kernel. What
  // the clients see is the same either way.
  test.each(pairings(plane))(
    'two allocations of this relay relay to each other in process, on %s: ChannelData and Send, from each other’s relayed address, counted like any peer',
    async (lanes) => {
      const before = await metricsText(t.relay);
      const { a, b, ra, rb } = await allocatedPair(t, lanes);
      try {
        expect(isSuccess(await a.channelBind(0x4101, rb))).toBe(true);
        expect(isSuccess(await b.createPermission(ra))).toBe(true);

        a.sendChannelData(0x4101, Buffer.from('a to b, channel'));
        expect(await nextDataIndication(b)).toEqual({
          data: 'a to b, channel',
          peer: { address: ra.address, port: ra.port },
        });
        b.sendIndication(ra, Buffer.from('b to a, send'));
        expect(await a.nextData()).toEqual({ data: Buffer.from('b to a, send'), channel: 0x4101 });
        expect(isSuccess(await b.channelBind(0x4102, ra))).toBe(true);
        for (let i = 0; i < 20; i++) a.sendChannelData(0x4101, Buffer.from(`burst ${i}`));
        for (let i = 0; i < 20; i++)
          expect(await b.nextData()).toEqual({ data: Buffer.from(`burst ${i}`), channel: 0x4102 });

        const after = await metricsText(t.relay);
        expect(metricDelta(before, after, udpSeries('client_to_peer'))).toBe(22);
        expect(metricDelta(before, after, udpSeries('peer_to_client'))).toBe(22);
        // Every one of them went from one relay to the other without the kernel, across threads too.
        expect(metricDelta(before, after, IN_PROCESS)).toBe(22);
        await Promise.all([a.refresh(0), b.refresh(0)]);
      } finally {
        a.close();
        b.close();
      }
    },
  );

  test.each(pairings(plane))(
    'two allocations of this relay, on %s: the receiving allocation’s permission still decides, and a deleted allocation’s address gets nothing',
    async (lanes) => {
      const { a, b, ra, rb } = await allocatedPair(t, lanes);
      const peer = await startPeer();
      try {
        expect(isSuccess(await a.channelBind(0x4103, rb))).toBe(true);
        const before = await metricsText(t.relay);
        // b permits only 127.0.0.2, not a's relayed address (127.0.0.1).
        expect(isSuccess(await b.createPermission({ address: '127.0.0.2', port: 1 }))).toBe(true);
        a.sendChannelData(0x4103, Buffer.from('not permitted'));
        await expect(b.nextData(300)).rejects.toThrow(/timed out/);
        const refused = await metricsText(t.relay);
        expect(metricValue(refused, dropped('no_permission')) - metricValue(before, dropped('no_permission'))).toBe(1);
        expect(metricValue(refused, udpSeries('peer_to_client'))).toBe(
          metricValue(before, udpSeries('peer_to_client')),
        );

        // Once b's allocation is gone, its relayed address reaches nobody, in process or not.
        expect(isSuccess(await b.refresh(0))).toBe(true);
        await waitUntilPortIsFree(rb.port);
        const gone = await metricsText(t.relay);
        a.sendChannelData(0x4103, Buffer.from('to a deleted allocation'));
        a.sendIndication(rb, Buffer.from('and by send indication'));
        await expect(b.nextData(300)).rejects.toThrow(/timed out/);
        const later = await metricsText(t.relay);
        expect(metricValue(later, IN_PROCESS)).toBe(metricValue(gone, IN_PROCESS));
        expect(metricValue(later, udpSeries('peer_to_client'))).toBe(metricValue(gone, udpSeries('peer_to_client')));

        // a itself still relays to an ordinary peer.
        expect(isSuccess(await a.channelBind(0x4104, peer))).toBe(true);
        a.sendChannelData(0x4104, Buffer.from('still relaying'));
        expect((await peer.next()).data.toString()).toBe('still relaying');
        peer.socket.send(Buffer.from('from a peer'), ra.port, ra.address);
        expect((await a.nextData()).data.toString()).toBe('from a peer');
        await a.refresh(0);
      } finally {
        a.close();
        b.close();
        peer.close();
      }
    },
  );

  test.each(pairings(plane))(
    'hostile client: a flood of maximum-size datagrams from one of its allocations to another, on %s, arrives whole or not at all, and the relay keeps serving everyone',
    async (lanes) => {
      const { a, b, ra, rb } = await allocatedPair(t, lanes);
      try {
        expect(isSuccess(await a.channelBind(0x4110, rb))).toBe(true);
        expect(isSuccess(await b.channelBind(0x4111, ra))).toBe(true);
        const before = await metricsText(t.relay);
        // ~19 MB at once: far more than the listener's socket buffer, and than a lane's inbox.
        const big = Buffer.alloc(65_000, 0x5a);
        for (let i = 0; i < 300; i++) a.sendChannelData(0x4110, big);
        let received = 0;
        for (;;) {
          const got = await b.nextData(500).catch(() => undefined);
          if (!got) break;
          expect(got.channel).toBe(0x4111);
          expect(got.data.equals(big)).toBe(true);
          received++;
        }
        expect(received).toBeGreaterThan(0);
        expect(received).toBeLessThanOrEqual(300);
        const after = await metricsText(t.relay);
        expect(metricDelta(before, after, IN_PROCESS)).toBeGreaterThanOrEqual(received);
        // A datagram that did not fit the receiving thread's inbox is counted once, and never also delivered.
        expect(after).toContain(`${dropped('handover')} `);
        const handedOverAndDropped = metricDelta(before, after, dropped('handover'));
        expect(received + handedOverAndDropped).toBeLessThanOrEqual(300);
        if (lanes === 'one thread') expect(handedOverAndDropped).toBe(0);
        await expectServing(t);
        await Promise.all([a.refresh(0), b.refresh(0)]);
      } finally {
        a.close();
        b.close();
      }
    },
  );

  test('TCP clients relay through the same plane object', async () => {
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

  test('hostile client datagrams are dropped and the relay keeps serving everyone', async () => {
    const attacker = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      // Before any allocation: ChannelData from an unknown 5-tuple, junk, empty and huge datagrams.
      attacker.sendRaw(Buffer.from([0x40, 0x01, 0x00, 0x08, 1, 2]));
      attacker.sendRaw(Buffer.alloc(0));
      attacker.sendRaw(Buffer.from([0xff, 0xff, 0xff]));
      attacker.sendRaw(Buffer.alloc(65_000, 0x41));
      attacker.sendRaw(Buffer.from([0x00, 0x01, 0x00]));
      const relayed = attacker.relayedAddress(await attacker.allocate(USER, PASSWORD));
      expect(isSuccess(await attacker.channelBind(0x4020, peer))).toBe(true);
      // With an allocation: ChannelData whose length field lies, a bare header, a
      // header alone, an unbound and an out-of-range channel number, a 65 KB frame.
      const lying = Buffer.alloc(12);
      lying.writeUInt16BE(0x4020, 0);
      lying.writeUInt16BE(4000, 2);
      attacker.sendRaw(lying);
      attacker.sendRaw(Buffer.from([0x40, 0x20]));
      attacker.sendRaw(Buffer.from([0x40, 0x20, 0x00, 0x00]));
      attacker.sendRaw(Buffer.from([0x7f, 0xff, 0x00, 0x01, 9]));
      const huge = Buffer.alloc(65_000);
      huge.writeUInt16BE(0x4020, 0);
      huge.writeUInt16BE(65_000 - 4, 2);
      attacker.sendRaw(huge);
      for (let i = 0; i < 200; i++) attacker.sendRaw(Buffer.from([0x40 | (i & 0x3f), i, 0xff, 0xff]));
      // Every ChannelData first byte, truncated to 1-3 bytes (test/interop/hostile-input.test.ts does this against a relay process).
      for (let first = 0x40; first <= 0x7f; first++)
        for (let n = 1; n <= 3; n++) attacker.sendRaw(Buffer.from([first, 0x20, 0x00].slice(0, n)));
      // A permitted peer without a channel sending a datagram too large to wrap in a Data indication.
      const unchanneled = await startPeer();
      unchanneled.socket.send(Buffer.alloc(65_490, 1), relayed.port, relayed.address);
      await sleep(100);
      unchanneled.close();
      // The only things that may arrive at the peer are the empty frame and the huge one, in full.
      for (const got of peer.received) expect([0, 65_000 - 4]).toContain(got.data.length);
      await expectServing(t);
      // And the attacker's own allocation still works.
      attacker.sendChannelData(0x4020, Buffer.from('attacker, honest now'));
      for (let i = 0; i < 100 && !peer.received.some((r) => r.data.toString() === 'attacker, honest now'); i++)
        await sleep(10);
      expect(peer.received.some((r) => r.data.toString() === 'attacker, honest now')).toBe(true);
      await attacker.refresh(0);
    } finally {
      attacker.close();
      peer.close();
    }
  });

  test('hostile client: a flood of STUN-shaped datagrams, many of maximum size, from an allocation holder; it and everyone else are still served', async () => {
    const attacker = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      attacker.relayedAddress(await attacker.allocate(USER, PASSWORD));
      expect(isSuccess(await attacker.channelBind(0x4040, peer))).toBe(true);
      // Send indications whose length field lies or whose attributes are junk: every one is handed
      // to the JavaScript side whole (up to 65,000 bytes), which drops it unanswered. The small ones
      // outnumber the native plane's STUN queue while this (the relay's own) thread is busy sending.
      const header = attacker.build(Method.Send, [], { cls: MessageClass.Indication });
      for (let i = 0; i < 300; i++) attacker.sendRaw(stunShaped(header, 65_000, i, i % 2 === 1));
      for (let i = 0; i < 5000; i++) attacker.sendRaw(stunShaped(header, 100, i, i % 2 === 1));
      // A full STUN queue drops datagrams like a full socket buffer, the attacker's own requests
      // included while its flood is still arriving: it retransmits, as a STUN client does.
      let ok: StunMessage | undefined;
      for (let attempt = 0; attempt < 5 && !ok; attempt++)
        ok = await attacker.transact(attacker.build(Method.Binding, []), 1000).catch(() => undefined);
      expect(ok?.cls).toBe(MessageClass.SuccessResponse);
      attacker.sendChannelData(0x4040, Buffer.from('attacker, still relayed'));
      expect((await peer.next()).data.toString()).toBe('attacker, still relayed');
      await expectServing(t);
      await attacker.refresh(0);
    } finally {
      attacker.close();
      peer.close();
    }
  });

  test('hostile client: maximum-size STUN-shaped datagrams while the JS thread is busy hold a bounded amount of memory, the excess is dropped and counted, everyone is still served', async () => {
    // Without a byte bound the native plane's STUN queue (4096 datagrams) would hold up to
    // 3000 x 65,000 bytes = 195 MB of this flood. Its budget is 8 MiB; on top of that the
    // listener socket's kernel buffer (4 MiB asked, which Linux doubles for its bookkeeping)
    // may hold more that reaches JS after this thread is free. The JS plane has only that buffer.
    const size = 65_000;
    const count = 3000;
    const bound = 8 * MIB + 2 * LISTENER_SOCKET_BUFFER;
    const victim = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    try {
      const relayed = victim.relayedAddress(await victim.allocate(USER, PASSWORD));
      expect(isSuccess(await victim.channelBind(0x4050, peer))).toBe(true);
      // An unauthenticated stranger's Send indications whose length field lies: each one that
      // reaches the JavaScript side is counted as malformed there and dropped unanswered.
      const header = victim.build(Method.Send, [], { cls: MessageClass.Indication });
      const datagram = stunShaped(header, size, 0x5a, true);
      const before = await metricsText(t.relay);
      const rss = process.memoryUsage.rss();
      floodWhileJsIsBusy(t.port('udp'), datagram, count);
      const growth = process.memoryUsage.rss() - rss;
      // The victim's allocation relays both ways, and a fresh client is served.
      victim.sendChannelData(0x4050, Buffer.from('after the flood'));
      expect((await peer.next()).data.toString()).toBe('after the flood');
      peer.socket.send(Buffer.from('and back'), relayed.port, relayed.address);
      expect((await victim.nextData()).data.toString()).toBe('and back');
      await expectServing(t);
      const after = await metricsText(t.relay);
      const delivered = metricDelta(before, after, 'turnrelay_errors_total{kind="malformed_message"}');
      expect(delivered).toBeGreaterThan(0);
      expect(delivered * size).toBeLessThanOrEqual(bound);
      expect(growth).toBeLessThan(bound + 16 * MIB); // the rest: whatever else this process touched meanwhile
      const dp = t.relay.turn.ctx.dataPlane;
      if (dp.name === 'native') {
        // The kernel drops what the JavaScript plane's socket has no room for, uncounted.
        expect(metricDelta(before, after, dropped('backpressure'))).toBeGreaterThan(0);
        expect((dp as NativeDataPlane).upcallBytes()).toBe(0); // JS caught up: every byte given back
      }
      await victim.refresh(0);
    } finally {
      victim.close();
      peer.close();
    }
  });

  test('hostile peers: unknown senders and oversized datagrams on a relay socket are dropped, the relay keeps serving', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const stranger = await startPeer(); // 127.0.0.1: no permission
    const peer = await startPeer('127.0.0.2');
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4030, peer))).toBe(true);
      const before = await metricsText(t.relay);
      // More datagrams than one wakeup's receive slots, shaped like ChannelData and STUN, then
      // an empty and a maximum-size (65,507-byte) one.
      for (let i = 0; i < 300; i++) {
        const junk = Buffer.alloc(64, i);
        junk[0] = i % 2 ? 0x40 : 0x00;
        stranger.socket.send(junk, relayed.port, relayed.address);
      }
      stranger.socket.send(Buffer.alloc(0), relayed.port, relayed.address);
      stranger.socket.send(Buffer.alloc(65_507, 0x42), relayed.port, relayed.address);
      await expect(c.nextData(300)).rejects.toThrow(/timed out/);
      const after = await metricsText(t.relay);
      expect(metricDelta(before, after, dropped('no_permission'))).toBeGreaterThan(0);
      // The permitted peer on a channel sends a datagram too large to wrap in ChannelData over UDP
      // (65,511 bytes), then an empty one: the first cannot arrive, the second arrives as it is.
      peer.socket.send(Buffer.alloc(65_507, 0x43), relayed.port, relayed.address);
      peer.socket.send(Buffer.alloc(0), relayed.port, relayed.address);
      const empty = await c.nextData();
      expect(empty).toMatchObject({ channel: 0x4030 });
      expect(empty.data.length).toBe(0);
      // The allocation still relays both ways, and so does a fresh client.
      peer.socket.send(Buffer.from('after the hostile peers'), relayed.port, relayed.address);
      expect((await c.nextData()).data.toString()).toBe('after the hostile peers');
      c.sendChannelData(0x4030, Buffer.from('and out again'));
      expect((await peer.next()).data.toString()).toBe('and out again');
      expect(stranger.received).toHaveLength(0);
      await expectServing(t);
      await c.refresh(0);
    } finally {
      c.close();
      stranger.close();
      peer.close();
    }
  });

  test('many clients: allocations spread over the threads, JS-installed channels work on each, counters add up', async () => {
    const clients = await Promise.all(Array.from({ length: 24 }, () => TurnTestClient.udp(t.port('udp'))));
    const peer = await startPeer();
    try {
      const before = await metricsText(t.relay);
      const relayed = [];
      for (const [i, c] of clients.entries()) {
        relayed.push(c.relayedAddress(await c.allocate(USER, PASSWORD)));
        expect(isSuccess(await c.channelBind(0x4200 + i, peer))).toBe(true);
      }
      const dp = t.relay.turn.ctx.dataPlane;
      if (dp.name === 'native') {
        const perThread = (dp as NativeDataPlane).relaysPerThread();
        expect(perThread).toHaveLength(dp.threads);
        expect(perThread.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(clients.length);
        // SO_REUSEPORT hashes the 24 source ports: all on one of two threads has odds 2^-23.
        if (dp.threads > 1) for (const n of perThread) expect(n).toBeGreaterThan(0);
      }
      const got: Array<{ data: Buffer; port: number }> = [];
      for (let round = 0; round < 10; round++) {
        for (const [i, c] of clients.entries()) c.sendChannelData(0x4200 + i, Buffer.from(`c${i} r${round}`));
        for (let k = 0; k < clients.length; k++) got.push(await peer.next());
      }
      const seen = new Set(got.map((r) => r.data.toString()));
      for (const [i] of clients.entries())
        for (let round = 0; round < 10; round++) expect(seen.has(`c${i} r${round}`)).toBe(true);
      // Each client's data leaves from its own relayed port.
      for (const [i, r] of relayed.entries())
        expect(got.filter((g) => g.data.toString().startsWith(`c${i} `)).every((g) => g.port === r.port)).toBe(true);
      for (const [i, r] of relayed.entries()) peer.socket.send(Buffer.from(`back ${i}`), r.port, r.address);
      for (const [i, c] of clients.entries()) expect((await c.nextData()).data.toString()).toBe(`back ${i}`);
      const after = await metricsText(t.relay);
      expect(metricDelta(before, after, udpSeries('client_to_peer'))).toBe(clients.length * 10);
      expect(metricDelta(before, after, udpSeries('peer_to_client'))).toBe(clients.length);
      await Promise.all(clients.map((c) => c.refresh(0)));
    } finally {
      for (const c of clients) c.close();
      peer.close();
    }
  });

  test('teardown under load: allocations deleted mid-flood, then the relay still serves', async () => {
    // Counted from here: an earlier test of this relay that failed may have left its allocation.
    const allocationsBefore = t.relay.turn.ctx.allocations.size;
    const clients = await Promise.all(Array.from({ length: 8 }, () => TurnTestClient.udp(t.port('udp'))));
    const peer = await startPeer();
    try {
      const relayed: { address: string; port: number }[] = [];
      for (const c of clients) relayed.push(c.relayedAddress(await c.allocate(USER, PASSWORD)));
      // Each client floods the peer and, in a ring, the next client's allocation (in process,
      // on one thread or across two), so deletions race handovers as well as the kernel path.
      const around = (i: number) => {
        const r = relayed[(i + relayed.length) % relayed.length];
        if (!r) throw new Error(`no relayed address ${i}`);
        return r;
      };
      for (const [i, c] of clients.entries()) {
        expect(isSuccess(await c.channelBind(0x4300 + i, peer))).toBe(true);
        expect(isSuccess(await c.channelBind(0x4380 + i, around(i + 1)))).toBe(true);
        expect(isSuccess(await c.createPermission(around(i - 1)))).toBe(true);
      }
      const before = metricValue(await metricsText(t.relay), IN_PROCESS);
      let flooding = true;
      const payload = Buffer.alloc(200, 7);
      const flood = (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the test clears it while this loop awaits
        while (flooding) {
          for (const [i, c] of clients.entries()) {
            c.sendChannelData(0x4300 + i, payload);
            c.sendChannelData(0x4380 + i, payload);
          }
          for (const r of relayed) peer.socket.send(payload, r.port, r.address);
          await sleep(1);
        }
      })();
      await sleep(100);
      expect(metricValue(await metricsText(t.relay), IN_PROCESS)).toBeGreaterThan(before);
      // Deleted one after the other while both directions flood.
      for (const c of clients) expect(isSuccess(await c.refresh(0))).toBe(true);
      await sleep(50);
      flooding = false;
      await flood;
      expect(t.relay.turn.ctx.allocations.size).toBe(allocationsBefore);
      await expectServing(t);
    } finally {
      for (const c of clients) c.close();
      peer.close();
    }
  });
});

describe.each(PLANES)('data plane contract, own relay: $name', (plane) => {
  test('the per-allocation bitrate cap drops excess packets in both directions', async () => {
    const t = await startTestRelay({ relay: relayOptions(plane), limits: { maxBitrateKbps: 8 } }); // 1000 bytes/s
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

  test('IPv6: ChannelData and Data indications through an IPv6 listener and relay', async () => {
    const t = await startTestRelay({
      listeners: [{ protocol: 'udp', host: '::1', port: 0 }],
      relay: { ...relayOptions(plane), host6: '::1' },
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
      expect(await nextDataIndication(c)).toEqual({
        data: 'v6 data indication',
        peer: { address: '::1', port: peer.port },
      });
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

  test('closing the relay while STUN datagrams wait for the JS thread frees them and gives their bytes back', async () => {
    const t = await startTestRelay({ relay: relayOptions(plane) });
    const c = await TurnTestClient.udp(t.port('udp'));
    try {
      const listenerPort = t.port('udp');
      const header = c.build(Method.Send, [], { cls: MessageClass.Indication });
      floodWhileJsIsBusy(listenerPort, stunShaped(header, 65_000, 1, true), 500);
      const dp = t.relay.turn.ctx.dataPlane;
      const upcallBytes = () => (dp.name === 'native' ? (dp as NativeDataPlane).upcallBytes() : 0);
      if (dp.name === 'native') expect(upcallBytes()).toBeGreaterThan(4 * MIB); // the queue is full of them
      await t.stop();
      expect(await portIsFree(listenerPort)).toBe(true);
      // The ones still queued at close reach no handler; each gives its bytes back as it is freed.
      for (let i = 0; i < 200 && upcallBytes() > 0; i++) await sleep(10);
      expect(upcallBytes()).toBe(0);
    } finally {
      c.close();
    }
  });

  test('closing the relay while clients flood it frees every socket and leaves nothing running', async () => {
    const t = await startTestRelay({ relay: relayOptions(plane) });
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer();
    let flooding = true;
    try {
      const relayed = c.relayedAddress(await c.allocate(USER, PASSWORD));
      expect(isSuccess(await c.channelBind(0x4006, peer))).toBe(true);
      const listenerPort = t.port('udp');
      const flood = (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the test clears it while this loop awaits
        while (flooding) {
          for (let i = 0; i < 20; i++) {
            c.sendChannelData(0x4006, Buffer.alloc(100));
            peer.socket.send(Buffer.alloc(100), relayed.port, relayed.address);
          }
          await sleep(1);
        }
      })();
      await sleep(100);
      await t.stop();
      flooding = false;
      await flood;
      expect(await portIsFree(relayed.port)).toBe(true);
      expect(await portIsFree(listenerPort)).toBe(true);
    } finally {
      flooding = false;
      c.close();
      peer.close();
    }
  });
});
