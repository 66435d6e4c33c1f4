// Allocation lifecycle and request errors through a running relay:
// retransmissions, 437/441/442/440/443/486/420, lifetime and Refresh 0,
// EVEN-PORT with RESERVATION-TOKEN, IPv6 relays.
import { AttributeType, Method, errorCodeOf, isSuccess, TurnTestClient } from './helpers/turn-test-client.js';
import { encodeRequestedTransport } from '../../../relay/stun/attributes/requested-transport.js';
import { encodeRequestedAddressFamily } from '../../../relay/stun/attributes/requested-address-family.js';
import { encodeEvenPort } from '../../../relay/stun/attributes/even-port.js';
import { encodeLifetime } from '../../../relay/stun/attributes/lifetime.js';
import {
  metricsText,
  metricValue,
  PASSWORD,
  startPeer,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

const UDP_TRANSPORT: [number, Buffer] = [AttributeType.RequestedTransport, encodeRequestedTransport(17)];

describe('TURN allocations', () => {
  let t: TestRelay;
  const clients: TurnTestClient[] = [];
  const client = async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startTestRelay({
      limits: { maxAllocationsPerUser: 3, defaultLifetimeSeconds: 600, maxLifetimeSeconds: 1200 },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.stop();
  });

  test('a retransmitted Allocate gets the identical response, a new transaction on the same 5-tuple gets 437', async () => {
    const c = await client();
    c.username = USER;
    c.password = PASSWORD;
    const challenge = await c.transact(c.build(Method.Allocate, [UDP_TRANSPORT]));
    c.realm = challenge.get(AttributeType.Realm)!.toString();
    c.nonce = challenge.get(AttributeType.Nonce)!.toString();
    const request = c.build(Method.Allocate, [UDP_TRANSPORT], { authenticated: true });
    const first = await c.transact(request);
    const again = await c.transact(request);
    expect(isSuccess(first)).toBe(true);
    expect(again.raw).toEqual(first.raw);
    const other = await c.transact(c.build(Method.Allocate, [UDP_TRANSPORT], { authenticated: true }));
    expect(errorCodeOf(other)).toBe(437);
    await c.refresh(0);
  });

  test('lifetime: default when absent, capped at the maximum, and Refresh 0 deletes the allocation', async () => {
    const c = await client();
    const res = await c.allocate(USER, PASSWORD, [[AttributeType.Lifetime, encodeLifetime(99_999)]]);
    expect(c.lifetimeOf(res)).toBe(1200);
    const refreshed = await c.refresh(60); // below the default: raised to it
    expect(c.lifetimeOf(refreshed)).toBe(600);
    const before = metricValue(await metricsText(t.relay), 'turnrelay_allocations{family="ipv4"}');
    const deleted = await c.refresh(0);
    expect(isSuccess(deleted)).toBe(true);
    expect(c.lifetimeOf(deleted)).toBe(0);
    expect(metricValue(await metricsText(t.relay), 'turnrelay_allocations{family="ipv4"}')).toBe(before - 1);
    expect(errorCodeOf(await c.createPermission({ address: '127.0.0.1', port: 9 }))).toBe(437);
    expect(errorCodeOf(await c.refresh(600))).toBe(437);
  });

  test('486 when the user holds maxAllocationsPerUser allocations', async () => {
    const mine: TurnTestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await client();
      expect(isSuccess(await c.allocate('bob', 'bob-password'))).toBe(true);
      mine.push(c);
    }
    const extra = await client();
    expect(errorCodeOf(await extra.allocate('bob', 'bob-password'))).toBe(486);
    await mine[0]!.refresh(0);
    expect(isSuccess(await extra.allocate('bob', 'bob-password'))).toBe(true);
    for (const c of [...mine.slice(1), extra]) await c.refresh(0);
    expect(metricValue(await metricsText(t.relay), 'turnrelay_allocations_total{result="quota_reached"}')).toBe(1);
  });

  test('441 when another user touches the allocation; 442 for TCP relaying; 400 without REQUESTED-TRANSPORT', async () => {
    const c = await client();
    expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    c.username = 'bob';
    c.password = 'bob-password';
    expect(errorCodeOf(await c.refresh(600))).toBe(441);
    c.username = USER;
    c.password = PASSWORD;
    await c.refresh(0);

    const d = await client();
    d.username = USER;
    d.password = PASSWORD;
    expect(errorCodeOf(await d.request(Method.Allocate, []))).toBe(400);
    expect(
      errorCodeOf(await d.request(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(6)]])),
    ).toBe(442);
  });

  test('DONT-FRAGMENT is accepted (Linux UDP sockets already send with DF via path-MTU discovery)', async () => {
    const c = await client();
    expect(isSuccess(await c.allocate(USER, PASSWORD, [[AttributeType.DontFragment, Buffer.alloc(0)]]))).toBe(true);
    await c.refresh(0);
  });

  test('440 for an IPv6 relay when relay.host6 is not configured, and for unknown families', async () => {
    const c = await client();
    expect(
      errorCodeOf(
        await c.allocate(USER, PASSWORD, [[AttributeType.RequestedAddressFamily, encodeRequestedAddressFamily(2)]]),
      ),
    ).toBe(440);
    expect(
      errorCodeOf(
        await c.allocate(USER, PASSWORD, [[AttributeType.RequestedAddressFamily, encodeRequestedAddressFamily(9)]]),
      ),
    ).toBe(440);
  });

  test('420 lists unknown comprehension-required attributes', async () => {
    const c = await client();
    const res = await c.transact(c.build(Method.Binding, [[0x7777, Buffer.from('x')]]));
    expect(errorCodeOf(res)).toBe(420);
    expect(res.get(AttributeType.UnknownAttributes)!.readUInt16BE(0)).toBe(0x7777);
  });

  test('EVEN-PORT with R reserves port+1, which a RESERVATION-TOKEN claims', async () => {
    const c = await client();
    const res = await c.allocate(USER, PASSWORD, [[AttributeType.EvenPort, encodeEvenPort(true)]]);
    expect(isSuccess(res)).toBe(true);
    const port = c.relayedAddress(res).port;
    expect(port % 2).toBe(0);
    const token = res.get(AttributeType.ReservationToken)!;
    expect(token.length).toBe(8);
    const d = await client();
    const claimed = await d.allocate(USER, PASSWORD, [[AttributeType.ReservationToken, Buffer.from(token)]]);
    expect(isSuccess(claimed)).toBe(true);
    expect(d.relayedAddress(claimed).port).toBe(port + 1);
    // A token works once.
    const e = await client();
    expect(errorCodeOf(await e.allocate(USER, PASSWORD, [[AttributeType.ReservationToken, Buffer.from(token)]]))).toBe(
      508,
    );
    await c.refresh(0);
    await d.refresh(0);
  });

  test('a malformed request with a readable header is answered 400', async () => {
    const c = await client();
    const buf = c.build(Method.Binding, [[AttributeType.Software, Buffer.from('abcd')]]);
    buf.writeUInt16BE(buf.readUInt16BE(2) + 4, 2); // claims more bytes than sent
    const padded = Buffer.concat([buf, Buffer.from([0, 0x50, 0, 0])]);
    const res = await c.transact(padded);
    expect(errorCodeOf(res)).toBe(400);
  });
});

describe('IPv6 relays', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({
      relay: { host: '127.0.0.1', host6: '::1', portRange: { min: 50000, max: 59999 } },
      peers: { allowCIDRs: ['127.0.0.0/8', '::1/128'] },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('REQUESTED-ADDRESS-FAMILY IPv6 gives an IPv6 relayed address; IPv4 peers then get 443', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    try {
      const res = await c.allocate(USER, PASSWORD, [
        [AttributeType.RequestedAddressFamily, encodeRequestedAddressFamily(2)],
      ]);
      expect(isSuccess(res)).toBe(true);
      expect(c.relayedAddress(res)).toMatchObject({ family: 6, address: '::1' });
      expect(errorCodeOf(await c.createPermission({ address: '127.0.0.1', port: 1 }))).toBe(443);
      expect(isSuccess(await c.createPermission({ address: '::1', port: 1 }))).toBe(true);
      expect(metricValue(await metricsText(t.relay), 'turnrelay_allocations{family="ipv6"}')).toBe(1);
    } finally {
      c.close();
    }
  });

  test('data flows through an IPv6 relay: Send/Data indications and ChannelData with an IPv6 peer', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const peer = await startPeer('::1');
    try {
      const res = await c.allocate(USER, PASSWORD, [
        [AttributeType.RequestedAddressFamily, encodeRequestedAddressFamily(2)],
      ]);
      const relayed = c.relayedAddress(res);
      expect(isSuccess(await c.createPermission(peer))).toBe(true);
      c.sendIndication(peer, Buffer.from('v6 send'));
      expect((await peer.next()).data.toString()).toBe('v6 send');
      peer.socket.send(Buffer.from('v6 data'), relayed.port, relayed.address);
      const back = await c.nextData();
      expect(back.data.toString()).toBe('v6 data');
      expect(back.peer).toMatchObject({ family: 6, address: '::1', port: peer.port });
      expect(isSuccess(await c.channelBind(0x4010, peer))).toBe(true);
      c.sendChannelData(0x4010, Buffer.from('v6 channel'));
      expect((await peer.next()).data.toString()).toBe('v6 channel');
      peer.socket.send(Buffer.from('v6 channel back'), relayed.port, relayed.address);
      expect(await c.nextData()).toMatchObject({ channel: 0x4010 });
      await c.refresh(0);
    } finally {
      c.close();
      peer.close();
    }
  });
});

describe('relay capacity', () => {
  test('508 Insufficient Capacity once maxAllocations are in use', async () => {
    const t = await startTestRelay({ limits: { maxAllocations: 1 } });
    const a = await TurnTestClient.udp(t.port('udp'));
    const b = await TurnTestClient.udp(t.port('udp'));
    try {
      expect(isSuccess(await a.allocate(USER, PASSWORD))).toBe(true);
      expect(errorCodeOf(await b.allocate('bob', 'bob-password'))).toBe(508);
      expect(
        metricValue(await metricsText(t.relay), 'turnrelay_allocations_total{result="insufficient_capacity"}'),
      ).toBe(1);
    } finally {
      a.close();
      b.close();
      await t.stop();
    }
  });
});
