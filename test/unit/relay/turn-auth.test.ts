// Authentication through a running relay: 401 challenge then success, static
// users and TURN REST credentials, expired credentials, wrong passwords,
// forged integrity from an allocated client, stale nonces (438), and per-IP
// rate limiting of failures.
import { randomBytes } from 'node:crypto';
import { mintRestCredential } from '../../../relay/auth/rest-credentials.js';
import { AttributeType, Method, errorCodeOf, isSuccess, TurnTestClient } from './helpers/turn-test-client.js';
import { encodeRequestedTransport } from '../../../relay/stun/attributes/requested-transport.js';
import { MessageClass } from '../../../relay/stun/constants.js';
import { StunMessageBuilder } from '../../../relay/stun/message.js';
import {
  metricsText,
  metricValue,
  PASSWORD,
  SECRET,
  sleep,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

describe('TURN authentication', () => {
  let t: TestRelay;
  const clients: TurnTestClient[] = [];
  const client = async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startTestRelay();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.stop();
  });

  test('Binding needs no credentials and reports the mapped address', async () => {
    const c = await client();
    const res = await c.transact(c.build(Method.Binding, []));
    expect(isSuccess(res)).toBe(true);
    expect(res.has(AttributeType.XorMappedAddress)).toBe(true);
    // Unauthenticated answers carry no SOFTWARE (reflection: as small as possible).
    expect(res.has(AttributeType.Software)).toBe(false);
  });

  test('an unauthenticated Allocate gets 401 with REALM and NONCE, then succeeds with a static user', async () => {
    const c = await client();
    const first = await c.transact(
      c.build(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)]]),
    );
    expect(errorCodeOf(first)).toBe(401);
    expect(first.get(AttributeType.Realm)!.toString()).toBe('test.realm');
    expect(first.get(AttributeType.Nonce)!.length).toBeGreaterThan(8);
    expect(first.has(AttributeType.MessageIntegrity)).toBe(false);
    const res = await c.allocate(USER, PASSWORD);
    expect(isSuccess(res)).toBe(true);
    expect(res.has(AttributeType.MessageIntegrity)).toBe(true); // responses to authenticated requests are signed
    expect(c.relayedAddress(res).address).toBe('127.0.0.1');
  });

  test('MESSAGE-INTEGRITY-SHA256 is accepted and answered in kind', async () => {
    const c = await client();
    c.sha256 = true;
    const res = await c.allocate(USER, PASSWORD);
    expect(isSuccess(res)).toBe(true);
    expect(res.has(AttributeType.MessageIntegritySha256)).toBe(true);
  });

  test('a TURN REST credential from the shared secret works; an expired one gets 401 and is counted', async () => {
    const ok = mintRestCredential(SECRET, { user: 'carol', ttlSeconds: 600 });
    const c1 = await client();
    expect(isSuccess(await c1.allocate(ok.username, ok.password))).toBe(true);

    const expired = mintRestCredential(SECRET, { user: 'carol', ttlSeconds: 60, now: Date.now() - 3600_000 });
    const c2 = await client();
    const before = metricValue(await metricsText(t.relay), 'turnrelay_auth_total{result="expired"}');
    expect(errorCodeOf(await c2.allocate(expired.username, expired.password))).toBe(401);
    expect(metricValue(await metricsText(t.relay), 'turnrelay_auth_total{result="expired"}')).toBe(before + 1);
  });

  test('a wrong password and an unknown user get 401', async () => {
    const c = await client();
    expect(errorCodeOf(await c.allocate(USER, 'not-the-password'))).toBe(401);
    const d = await client();
    expect(errorCodeOf(await d.allocate('nobody', 'x'))).toBe(401);
    const text = await metricsText(t.relay);
    expect(metricValue(text, 'turnrelay_auth_total{result="bad_integrity"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'turnrelay_auth_total{result="unknown_user"}')).toBeGreaterThanOrEqual(1);
  });

  test('an allocated client that forges MESSAGE-INTEGRITY values of every length gets errors, keeps its allocation, and others are served', async () => {
    // Its own source address: its failures count against that address only (maxFailuresPerIp is 20).
    const c = await TurnTestClient.udp(t.port('udp'), '127.0.0.1', '127.0.0.2');
    clients.push(c);
    expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    // A Refresh with the valid USERNAME, REALM and NONCE, and integrity bytes that are not the HMAC.
    const forged = (type: number, length: number) =>
      new StunMessageBuilder(Method.Refresh, MessageClass.Request, randomBytes(12))
        .add(AttributeType.Username, Buffer.from(USER))
        .add(AttributeType.Realm, Buffer.from(c.realm))
        .add(AttributeType.Nonce, Buffer.from(c.nonce))
        .add(type, randomBytes(length))
        .build({ fingerprint: true });
    const attempts: Array<[number, number[]]> = [
      [AttributeType.MessageIntegrity, [0, 1, 4, 19, 20, 21, 32]],
      [AttributeType.MessageIntegritySha256, [0, 12, 15, 16, 20, 32, 33, 36]],
    ];
    for (const [type, lengths] of attempts)
      for (const length of lengths) expect([400, 401]).toContain(errorCodeOf(await c.transact(forged(type, length))));
    expect(isSuccess(await c.refresh())).toBe(true);
    const other = await client();
    expect(isSuccess(await other.allocate(USER, PASSWORD))).toBe(true);
  });
});

describe('nonce expiry and failure rate limiting', () => {
  test('438 Stale Nonce after the nonce lifetime, then the client recovers with the new nonce', async () => {
    const r = await startTestRelay({ auth: { nonceLifetimeSeconds: 1 } });
    const c = await TurnTestClient.udp(r.port('udp'));
    try {
      expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
      await sleep(1200);
      const stale = await c.transact(c.build(Method.Refresh, [], { authenticated: true }));
      expect(errorCodeOf(stale)).toBe(438);
      expect(stale.has(AttributeType.Nonce)).toBe(true);
      expect(isSuccess(await c.request(Method.Refresh, []))).toBe(true);
      expect(
        metricValue(await metricsText(r.relay), 'turnrelay_auth_total{result="stale_nonce"}'),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      c.close();
      await r.stop();
    }
  });

  test('after maxFailuresPerIp failures the client IP gets no answers until the window passes', async () => {
    const r = await startTestRelay({ auth: { maxFailuresPerIp: 3, failureWindowSeconds: 60 } });
    const c = await TurnTestClient.udp(r.port('udp'));
    try {
      const attempt = () =>
        c.transact(
          c.build(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)]], {
            authenticated: true,
          }),
          500,
        );
      expect(errorCodeOf(await c.allocate(USER, 'wrong'))).toBe(401); // challenge (not a failure), then failure 1
      expect(errorCodeOf(await attempt())).toBe(401);
      expect(errorCodeOf(await attempt())).toBe(401);
      await expect(attempt()).rejects.toThrow(/no response/);
      // Correct credentials do not help while blocked.
      c.password = PASSWORD;
      await expect(attempt()).rejects.toThrow(/no response/);
      expect(
        metricValue(await metricsText(r.relay), 'turnrelay_auth_total{result="rate_limited"}'),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      c.close();
      await r.stop();
    }
  });
});
