// Authentication under attack, against a relay process: forged-nonce floods
// do not lock out a victim behind the same address, a credential that
// expires during a live allocation keeps Refresh/CreatePermission/ChannelBind
// working, and every answer to an unauthenticated request is at most three
// times its size (bandwidth amplification factor), rate limited per source.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ChildSet } from './harness/children.js';
import { randomLoopbackAddress } from './harness/relay-config-files.js';
import {
  expectAliveAndServing,
  HOSTILE_SECRET,
  HOSTILE_USER,
  startHostileRelay,
  type HostileRelay,
} from './harness/hostile.js';
import { mintRestCredential } from './harness/rest-credential.js';
import { sumSamples } from './harness/prometheus-text.js';
import { startPeer, sleep } from '../unit/relay/helpers/test-relay.js';
import { AttributeType, errorCodeOf, isSuccess, Method } from '../unit/relay/helpers/turn-test-client.js';
import { encodeRequestedTransport } from '../../relay/stun/attributes/requested-transport.js';

describe('hostile authentication traffic', () => {
  const children = new ChildSet();
  let dir: string;
  let h: HostileRelay;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnrelay-hostile-auth-'));
    h = await startHostileRelay(children, {
      dir,
      host: randomLoopbackAddress(),
      dataPlane: 'node',
      auth: { maxFailuresPerIp: 5 },
    });
  }, 60_000);

  afterAll(async () => {
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  }, 20_000);

  test("a flood of Allocates with forged NONCEs and bogus integrity from the victim's address does not lock the victim out", async () => {
    const attacker = await h.client('udp');
    attacker.username = HOSTILE_USER.name;
    attacker.password = 'not-the-password';
    attacker.realm = 'interop.turnrelay.test';
    for (let i = 0; i < 100; i++) {
      attacker.nonce = `${Date.now().toString(36)}-${randomBytes(12).toString('base64url')}`;
      attacker.sendRaw(
        attacker.build(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)]], {
          authenticated: true,
        }),
      );
    }
    await sleep(300);
    attacker.close();
    // Same address (the relay sees one IP), five allowed failures: the forgeries counted none.
    const victim = await h.client('udp');
    expect(isSuccess(await victim.allocate(HOSTILE_USER.name, HOSTILE_USER.password))).toBe(true);
    await victim.refresh(0);
    victim.close();
    const text = await h.relay.metrics();
    expect(sumSamples(text, 'turnrelay_auth_total', { result: 'stale_nonce' })).toBeGreaterThanOrEqual(50);
    expect(sumSamples(text, 'turnrelay_auth_total', { result: 'rate_limited' })).toBe(0);
    await expectAliveAndServing(h);
  }, 30_000);

  test('a REST credential that expires during a live allocation: Refresh, CreatePermission and ChannelBind keep succeeding; a new Allocate is refused', async () => {
    const peer = await startPeer(h.host);
    const cred = mintRestCredential(HOSTILE_SECRET, 'short-call', 2);
    const c = await h.client('udp');
    expect(isSuccess(await c.allocate(cred.username, cred.credential))).toBe(true);
    await sleep(3500); // the username's expiry has passed
    expect(isSuccess(await c.refresh(600))).toBe(true);
    expect(isSuccess(await c.createPermission(peer))).toBe(true);
    expect(isSuccess(await c.channelBind(0x4000, peer))).toBe(true);
    c.sendChannelData(0x4000, Buffer.from('after-expiry'));
    expect((await peer.next(5000)).data.toString()).toBe('after-expiry');
    const late = await h.client('udp');
    expect(errorCodeOf(await late.allocate(cred.username, cred.credential))).toBe(401);
    late.close();
    await c.refresh(0);
    c.close();
    peer.close();
    await expectAliveAndServing(h);
  }, 30_000);

  test('the smallest unauthenticated requests get answers at most 3x their size, and a source gets a bounded number of them', async () => {
    const c = await h.client('udp');
    const requests = [
      c.build(Method.Binding, []),
      c.build(Method.Allocate, []),
      c.build(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)]]),
      c.build(Method.Refresh, []),
      c.build(Method.CreatePermission, []),
    ];
    const factors: number[] = [];
    for (const req of requests) {
      const res = await c.transact(req);
      factors.push(res.raw.length / req.length);
    }
    expect(Math.max(...factors)).toBeLessThanOrEqual(3);
    // The 401 challenge for the 28-byte Allocate carries REALM and NONCE (it is the largest answer).
    // A burst from one source: only the per-source budget (2 x 50/s) is answered.
    const before = sumSamples(await h.relay.metrics(), 'turnrelay_unauthenticated_responses_total', {
      result: 'rate_limited',
    });
    for (let i = 0; i < 400; i++)
      c.sendRaw(c.build(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)]]));
    await sleep(500);
    const answered = c.inbox.length;
    c.close();
    expect(answered).toBeLessThanOrEqual(150);
    const after = sumSamples(await h.relay.metrics(), 'turnrelay_unauthenticated_responses_total', {
      result: 'rate_limited',
    });
    expect(after - before).toBeGreaterThanOrEqual(250);
    console.log(
      `BAF per request (Binding 20 B, Allocate 20 B, Allocate 28 B, Refresh 20 B, CreatePermission 20 B): ${factors.map((f) => f.toFixed(2)).join(', ')}`,
    );
    await sleep(2500); // let the source's budget refill before the liveness check
    await expectAliveAndServing(h);
  }, 30_000);
});
