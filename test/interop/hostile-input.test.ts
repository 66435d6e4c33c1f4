// Authenticated hostile clients against a relay process, on every client
// transport and both data planes: truncated and lying ChannelData, unbound
// and out-of-range channels, port-0 peers, STUN headers with lying lengths;
// plus bytes that are not TLS and TLS 1.0/1.1 or CBC-only handshakes on the
// TLS listener, and malformed requests to the admin HTTP port. The relay must drop or refuse each input, keep
// relaying for the same client, and be alive and serving at the end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildSet } from './harness/children.js';
import { randomLoopbackAddress } from './harness/relay-config-files.js';
import { expectAliveAndServing, startHostileRelay, type DataPlaneKind, type HostileRelay } from './harness/hostile.js';
import { sumSamples } from './harness/prometheus-text.js';
import { startPeer, sleep } from '../unit/relay/helpers/test-relay.js';
import {
  errorCodeOf,
  isSuccess,
  Method,
  AttributeType,
  MessageClass,
  TurnTestClient,
} from '../unit/relay/helpers/turn-test-client.js';
import { encodeXorAddress } from '../../relay/stun/attributes/xor-address.js';
import { encodeChannelNumber } from '../../relay/stun/attributes/channel-number.js';
import { encodeChannelData } from '../../relay/stun/channel-data.js';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

type Transport = 'udp' | 'tcp' | 'tls';
type Peer = Awaited<ReturnType<typeof startPeer>>;

/** A marked payload reaches the peer through channel 0x4000, and the peer's reply reaches the client. */
async function expectStillRelays(c: TurnTestClient, peer: Peer, mark: string): Promise<void> {
  peer.received.length = 0;
  c.sendChannelData(0x4000, Buffer.from(mark));
  let got = await peer.next(5000);
  while (got.data.toString() !== mark) got = await peer.next(5000);
  c.inbox.length = 0;
  peer.socket.send(Buffer.from(`${mark}-back`), got.port, got.address);
  for (;;) {
    const d = await c.nextData(5000);
    if (d.data.toString() === `${mark}-back`) return;
  }
}

/** The code of the error a TLS handshake with these client options ends in ('' if it succeeds). */
function tlsHandshakeError(host: string, port: number, opts: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...opts }, () => {
      socket.destroy();
      resolve('');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Writes `bytes` on a fresh TCP connection and resolves with what came back once the relay closed it. */
function closedAfter(host: string, port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tcpConnect({ host, port }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection to ${host}:${port} still open after 5 s`));
    }, 5000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

function channelDataHeader(channel: number, length: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(channel, 0);
  h.writeUInt16BE(length, 2);
  return Buffer.concat([h, body]);
}

describe.each<DataPlaneKind>(['node', 'native'])('hostile authenticated clients, relay.dataPlane %s', (dataPlane) => {
  const children = new ChildSet();
  let dir: string;
  let h: HostileRelay;
  let peer: Peer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnrelay-hostile-'));
    const host = randomLoopbackAddress();
    h = await startHostileRelay(children, { dir, host, dataPlane });
    peer = await startPeer(host);
  }, 60_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed first
    peer?.close();
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  }, 20_000);

  test('truncated ChannelData of every length 1-3 (every first byte 0x40-0x7F) over UDP is dropped', async () => {
    const c = await h.boundClient('udp', peer);
    await expectStillRelays(c, peer, 'before');
    for (let first = 0x40; first <= 0x7f; first++) {
      c.sendRaw(Buffer.from([first]));
      c.sendRaw(Buffer.from([first, 0x00]));
      c.sendRaw(Buffer.from([first, 0x00, 0x10]));
    }
    await expectStillRelays(c, peer, 'after-truncated');
    c.close();
    await expectAliveAndServing(h);
  }, 30_000);

  test.each<Transport>(['udp', 'tcp', 'tls'])(
    'ChannelData whose length runs past the %s datagram or frame, on unbound and reserved channels',
    async (transport) => {
      const c = await h.boundClient(transport, peer);
      await expectStillRelays(c, peer, 'before');
      if (transport === 'udp') {
        for (const length of [5, 100, 1500, 0xffff]) c.sendRaw(channelDataHeader(0x4000, length, Buffer.from('four')));
        c.sendRaw(channelDataHeader(0x4000, 0, Buffer.alloc(0)));
      }
      // Unbound, reserved and highest channel numbers: dropped.
      for (const channel of [0x4001, 0x4fff, 0x5000, 0x7fff])
        c.sendRaw(encodeChannelData(channel, Buffer.from('nobody'), transport !== 'udp'));
      await expectStillRelays(c, peer, 'after-unbound');
      expect(peer.received.every((d) => d.data.toString() !== 'nobody')).toBe(true);
      if (transport !== 'udp') {
        // A frame that claims more bytes than the connection ever sends: the relay waits, the client gives up.
        const liar = await h.boundClient(transport, peer);
        liar.sendRaw(channelDataHeader(0x4000, 0xffff, Buffer.from('short')));
        await sleep(100);
        liar.close();
      }
      c.close();
      await expectAliveAndServing(h);
    },
    30_000,
  );

  test.each<Transport>(['udp', 'tcp', 'tls'])(
    'port-0 and out-of-range channel requests over %s get 400, Send to port 0 is dropped',
    async (transport) => {
      const c = await h.boundClient(transport, peer);
      const portZero = { address: peer.address, port: 0 };
      expect(errorCodeOf(await c.createPermission(portZero))).toBe(400);
      expect(errorCodeOf(await c.channelBind(0x4001, portZero))).toBe(400);
      for (const channel of [0x0000, 0x3fff, 0x8000, 0xffff]) {
        const tid = randomBytes(12);
        const res = await c.transact(
          c.build(
            Method.ChannelBind,
            [
              [AttributeType.ChannelNumber, encodeChannelNumber(channel)],
              [AttributeType.XorPeerAddress, encodeXorAddress(peer, tid)],
            ],
            { authenticated: true, tid },
          ),
        );
        expect(errorCodeOf(res)).toBe(400);
      }
      c.sendIndication(portZero, Buffer.from('to-port-zero'));
      c.sendChannelData(0x4001, Buffer.from('to-port-zero'));
      await expectStillRelays(c, peer, 'after-port-zero');
      const refusals = sumSamples(await h.relay.metrics(), 'turnrelay_peer_refusals_total', { reason: 'port-zero' });
      expect(refusals).toBeGreaterThanOrEqual(2);
      c.close();
      await expectAliveAndServing(h);
    },
    30_000,
  );

  test.each<Transport>(['udp', 'tcp', 'tls'])(
    'STUN headers with lying lengths over %s: 400 or dropped, never a crash',
    async (transport) => {
      const c = await h.boundClient(transport, peer);
      const valid = c.build(Method.Binding, []);
      const withLength = (buf: Buffer, length: number) => {
        const b = Buffer.from(buf);
        b.writeUInt16BE(length, 2);
        return b;
      };
      if (transport === 'udp') {
        for (const length of [4, 8, 100, 0xfffc, 3, 0xffff]) c.sendRaw(withLength(valid, length));
        // An attribute whose own length runs past the message.
        const attr = Buffer.from(c.build(Method.Refresh, [[AttributeType.Lifetime, Buffer.alloc(4)]]));
        attr.writeUInt16BE(0x0400, 22);
        c.sendRaw(attr);
        c.sendRaw(valid.subarray(0, 19));
        c.sendRaw(valid.subarray(0, 20 + 3));
      } else {
        // Attribute lengths that lie inside a well-framed message: answered 400 or dropped, connection usable.
        const attr = Buffer.from(c.build(Method.Refresh, [[AttributeType.Lifetime, Buffer.alloc(4)]]));
        attr.writeUInt16BE(0x0400, 22);
        c.sendRaw(attr);
      }
      const ok = await c.transact(c.build(Method.Binding, []));
      expect(ok.cls).toBe(MessageClass.SuccessResponse);
      await expectStillRelays(c, peer, 'after-lying-stun');
      if (transport !== 'udp') {
        // A STUN length that is not a multiple of 4 corrupts the stream: the relay closes that connection only.
        const liar = await h.client(transport);
        liar.sendRaw(withLength(valid, 3));
        await sleep(200);
        expect(liar.streamSocket!.destroyed || liar.streamSocket!.readableEnded).toBe(true);
        liar.close();
        // A header claiming a body that never comes.
        const waiter = await h.client(transport);
        waiter.sendRaw(withLength(valid, 0xfffc));
        await sleep(100);
        waiter.close();
      }
      c.close();
      await expectAliveAndServing(h);
    },
    30_000,
  );

  test('bytes that are not TLS on the TLS listener: each connection closed, TLS clients still served', async () => {
    const c = await h.boundClient('tls', peer);
    const { port } = h.relay.endpoint('tls');
    const record = (type: number, version: number, body: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt8(type, 0);
      head.writeUInt16BE(version, 1);
      head.writeUInt16BE(body.length, 3);
      return Buffer.concat([head, body]);
    };
    const inputs: Array<Buffer | string> = [
      c.build(Method.Binding, []), // plain STUN where a ClientHello belongs
      'GET / HTTP/1.1\r\nHost: relay\r\n\r\n',
      randomBytes(600),
      record(0x16, 0x0301, Buffer.from([0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0xff, 0xff])), // ClientHello that lies about its length
      record(0x17, 0x0303, randomBytes(64)), // application data before any handshake
      record(0x15, 0x0303, Buffer.from([0x02, 0x28])), // a fatal alert as the first record
    ];
    for (const input of inputs) await closedAfter(h.host, port, input);
    await expectStillRelays(c, peer, 'after-not-tls');
    const fresh = await h.client('tls');
    expect(isSuccess(await fresh.transact(fresh.build(Method.Binding, [])))).toBe(true);
    fresh.close();
    c.close();
    await expectAliveAndServing(h);
  }, 30_000);

  test('TLS 1.0/1.1 and CBC-only handshakes on the TLS listener: the relay answers with an alert, TLS 1.2+ clients still served', async () => {
    const c = await h.boundClient('tls', peer);
    const { port } = h.relay.endpoint('tls');
    const handshakeErrors = async () =>
      sumSamples(await h.relay.metrics(), 'turnrelay_errors_total', { kind: 'tls_handshake' });
    const before = await handshakeErrors();
    // The alerts come from the relay (the client offered these itself).
    const old = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
    expect(await tlsHandshakeError(h.host, port, old)).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    const cbc = { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA' } as const;
    expect(await tlsHandshakeError(h.host, port, cbc)).toBe('ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE');
    expect(await handshakeErrors()).toBe(before + 2);
    await expectStillRelays(c, peer, 'after-old-tls');
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      expect(await tlsHandshakeError(h.host, port, { minVersion: version, maxVersion: version })).toBe('');
    }
    c.close();
    await expectAliveAndServing(h);
  }, 30_000);

  test('malformed and hostile admin HTTP requests: refused, /healthz, /readyz and /metrics still answer', async () => {
    const { host, port } = h.relay.admin;
    const base = `http://${host}:${port}`;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/metrics`, { method, body: 'x'.repeat(100_000) });
      expect(res.status).toBe(405);
    }
    for (const path of ['/__proto__', '/constructor', '/readyz/', '/healthz%00', `/${'a'.repeat(8000)}`]) {
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    }
    // Raw requests Node's HTTP parser refuses: answered 4xx (or just closed), never a crash.
    const raw = [
      'GARBAGE\r\n\r\n',
      'GET /healthz HTTP/9.9\r\n\r\n',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(70_000)}\r\n\r\n`,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
      'POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      randomBytes(2000),
    ];
    for (const request of raw) {
      const answer = await closedAfter(host, port, request);
      if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz/new-allocations`)).status).toBe(200);
    await expectAliveAndServing(h);
  }, 30_000);
});
