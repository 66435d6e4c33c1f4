// Relaying through a running relay over UDP, TCP and TLS (Send/Data
// indications and ChannelData both ways), permission enforcement on data
// from peers, the bitrate cap, and drain.
import { errorCodeOf, isSuccess, TurnTestClient } from './helpers/turn-test-client.js';
import {
  metricsText,
  metricValue,
  PASSWORD,
  sleep,
  startPeer,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

async function connect(t: TestRelay, transport: 'udp' | 'tcp' | 'tls'): Promise<TurnTestClient> {
  return transport === 'udp'
    ? TurnTestClient.udp(t.port('udp'))
    : TurnTestClient.stream(transport, t.port(transport), { ca: t.certPem });
}

describe('relaying data', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay();
  });
  afterAll(async () => {
    await t.stop();
  });

  test.each(['udp', 'tcp', 'tls'] as const)(
    '%s: Send/Data indications and ChannelData both ways',
    async (transport) => {
      const c = await connect(t, transport);
      const peer = await startPeer();
      try {
        const res = await c.allocate(USER, PASSWORD);
        expect(isSuccess(res)).toBe(true);
        const relayed = c.relayedAddress(res);
        expect(isSuccess(await c.createPermission(peer))).toBe(true);

        c.sendIndication(peer, Buffer.from('via send indication'));
        const got = await peer.next();
        expect(got.data.toString()).toBe('via send indication');
        expect(got.port).toBe(relayed.port);

        peer.socket.send(Buffer.from('back as data indication'), relayed.port, relayed.address);
        const data = await c.nextData();
        expect(data.data.toString()).toBe('back as data indication');
        expect(data.peer).toMatchObject({ address: peer.address, port: peer.port });

        expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
        const odd = Buffer.from('channel data, odd length!');
        c.sendChannelData(0x4001, odd);
        expect((await peer.next()).data).toEqual(odd);
        peer.socket.send(Buffer.from('back on channel 0x4001'), relayed.port, relayed.address);
        const back = await c.nextData();
        expect(back).toMatchObject({ channel: 0x4001 });
        expect(back.data.toString()).toBe('back on channel 0x4001');

        const text = await metricsText(t.relay);
        expect(
          metricValue(text, `turnrelay_relayed_packets_total{transport="${transport}",direction="client_to_peer"}`),
        ).toBeGreaterThanOrEqual(2);
        expect(
          metricValue(text, `turnrelay_relayed_packets_total{transport="${transport}",direction="peer_to_client"}`),
        ).toBeGreaterThanOrEqual(2);
        await c.refresh(0);
      } finally {
        c.close();
        peer.close();
      }
    },
  );

  test('data from a peer without a permission is not relayed', async () => {
    const c = await connect(t, 'udp');
    const allowed = await startPeer();
    const stranger = await startPeer();
    try {
      const res = await c.allocate(USER, PASSWORD);
      const relayed = c.relayedAddress(res);
      // Permissions are per IP: give the permission to an address the stranger (also 127.0.0.1) does not have.
      expect(isSuccess(await c.createPermission({ address: '127.0.0.2', port: 1 }))).toBe(true);
      stranger.socket.send(Buffer.from('unsolicited'), relayed.port, relayed.address);
      await expect(c.nextData(300)).rejects.toThrow(/timed out/);
      expect(
        metricValue(await metricsText(t.relay), 'turnrelay_dropped_packets_total{reason="no_permission"}'),
      ).toBeGreaterThanOrEqual(1);
      await c.refresh(0);
    } finally {
      c.close();
      allowed.close();
      stranger.close();
    }
  });

  test('closing a TCP connection deletes its allocation', async () => {
    const c = await connect(t, 'tcp');
    expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    const before = t.relay.turn.ctx.allocations.size;
    c.close();
    await sleep(100);
    expect(t.relay.turn.ctx.allocations.size).toBe(before - 1);
  });
});

describe('peer policy on every path', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({ peers: { allowCIDRs: [], denyCIDRs: ['198.51.100.0/24'] } });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('CreatePermission, ChannelBind and Send refuse denied peers (403 / dropped) and count them', async () => {
    const c = await connect(t, 'udp');
    const peer = await startPeer(); // loopback: denied by the built-in policy here
    try {
      expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
      expect(errorCodeOf(await c.createPermission(peer))).toBe(403);
      expect(errorCodeOf(await c.createPermission({ address: '169.254.169.254', port: 80 }))).toBe(403);
      expect(
        errorCodeOf(await c.createPermission({ address: '8.8.8.8', port: 53 }, { address: '10.1.2.3', port: 53 })),
      ).toBe(403);
      expect(errorCodeOf(await c.createPermission({ address: '198.51.100.7', port: 1 }))).toBe(403);
      expect(errorCodeOf(await c.channelBind(0x4000, { address: '10.0.0.1', port: 5000 }))).toBe(403);
      expect(errorCodeOf(await c.channelBind(0x4000, peer))).toBe(403);
      c.sendIndication(peer, Buffer.from('must not arrive'));
      await expect(peer.next(300)).rejects.toThrow(/received nothing/);

      const text = await metricsText(t.relay);
      const refusals = (path: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith('turnrelay_peer_refusals_total{') && l.includes(`path="${path}"`))
          .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      expect(refusals('create_permission')).toBe(4);
      expect(refusals('channel_bind')).toBe(2);
      expect(refusals('send')).toBe(1);
      expect(text).toContain('reason="link-local"');
      expect(text).toContain('reason="denied-cidr"');
      // A refused CreatePermission installs nothing, not even the allowed address in the same request.
      expect(t.relay.turn.ctx.allocations.values().next().value!.permissions.size).toBe(0);
    } finally {
      c.close();
      peer.close();
    }
  });
});

describe('limits and drain', () => {
  test('the per-allocation bitrate cap drops excess packets', async () => {
    const t = await startTestRelay({ limits: { maxBitrateKbps: 8 } }); // 1000 bytes/s
    const c = await connect(t, 'udp');
    const peer = await startPeer();
    try {
      await c.allocate(USER, PASSWORD);
      await c.channelBind(0x4002, peer);
      for (let i = 0; i < 20; i++) c.sendChannelData(0x4002, Buffer.alloc(400, i));
      await sleep(200);
      expect(peer.received.length).toBeGreaterThan(0);
      expect(peer.received.length).toBeLessThan(20);
      expect(
        metricValue(await metricsText(t.relay), 'turnrelay_dropped_packets_total{reason="rate_limited"}'),
      ).toBeGreaterThan(0);
    } finally {
      c.close();
      peer.close();
      await t.stop();
    }
  });

  test('drain: still serving (readyz 200) but not taking new allocations (readyz/new-allocations 503, Allocate 508), existing ones keep relaying until they end', async () => {
    const t = await startTestRelay({ drain: { gracePeriodSeconds: 30 } });
    const c = await connect(t, 'udp');
    const late = await connect(t, 'udp');
    const peer = await startPeer();
    try {
      const res = await c.allocate(USER, PASSWORD);
      const relayed = c.relayedAddress(res);
      await c.channelBind(0x4003, peer);
      const status = async (path: string) => (await fetch(`http://127.0.0.1:${t.relay.admin.port}${path}`)).status;
      expect(await status('/readyz/new-allocations')).toBe(200);
      // Paths are looked up as own keys only: object prototype names are not endpoints.
      for (const path of ['/constructor', '/__proto__', '/toString', '/readyz/']) expect(await status(path)).toBe(404);
      let drained = false;
      const draining = t.relay.drain().then(() => {
        drained = true;
      });
      // A pod's readiness keeps its Service endpoint serving its live UDP flows (kube-proxy keeps their conntrack entries).
      expect(await status('/readyz')).toBe(200);
      expect(await status('/readyz/new-allocations')).toBe(503);
      expect(await status('/healthz')).toBe(200);
      expect(errorCodeOf(await late.allocate(USER, PASSWORD))).toBe(508);

      c.sendChannelData(0x4003, Buffer.from('still relaying'));
      expect((await peer.next()).data.toString()).toBe('still relaying');
      peer.socket.send(Buffer.from('and back'), relayed.port, relayed.address);
      expect((await c.nextData()).data.toString()).toBe('and back');
      expect(isSuccess(await c.refresh(600))).toBe(true);
      expect(drained).toBe(false);

      await c.refresh(0);
      await draining;
      expect(drained).toBe(true);
    } finally {
      c.close();
      late.close();
      peer.close();
      await t.stop();
    }
  });
});
