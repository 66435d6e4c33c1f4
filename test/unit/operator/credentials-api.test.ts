// The pure parts of the credentials API: routing, request bodies, the TTL cap
// and the per-key rate limiter (with a fake clock: no timing assertions).
import { KeyedLimiter } from '../../../operator/credentials-api/keyed-limiter.js';
import {
  MAX_BODY_BYTES,
  RequestError,
  credentialsPath,
  issuedTtl,
  parseCredentialsPath,
  parseCredentialsRequest,
  relayCredentialTtl,
} from '../../../operator/credentials-api/request.js';

test('the route names one TurnRelay and nothing else', () => {
  expect(parseCredentialsPath(credentialsPath({ namespace: 'media', name: 'edge' }))).toEqual({
    namespace: 'media',
    name: 'edge',
  });
  expect(parseCredentialsPath('/v1/namespaces/media/turnrelays/edge.eu/credentials?x=1')).toEqual({
    namespace: 'media',
    name: 'edge.eu',
  });
  for (const bad of [
    '/',
    '/v1/namespaces/media/turnrelays/edge',
    '/v1/namespaces/Media/turnrelays/edge/credentials',
    '/v1/namespaces/../turnrelays/edge/credentials',
    '/v1/namespaces/media/turnrelays/edge/credentials/extra',
    `/v1/namespaces/${'a'.repeat(64)}/turnrelays/edge/credentials`,
    '/v1/namespaces/media/turnrelays/%2e%2e/credentials',
  ]) {
    expect(parseCredentialsPath(bad)).toBeUndefined();
  }
});

test('the body is optional, strict and bounded', () => {
  expect(parseCredentialsRequest('')).toEqual({});
  expect(parseCredentialsRequest('{"user":"alice","ttlSeconds":60}')).toEqual({ user: 'alice', ttlSeconds: 60 });
  for (const bad of [
    '[]',
    'null',
    '"x"',
    '{"user":""}',
    '{"user":"a\\nb"}',
    `{"user":"${'u'.repeat(129)}"}`,
    '{"ttlSeconds":0}',
    '{"ttlSeconds":1.5}',
    '{"ttlSeconds":"1h"}',
    '{"secret":"x"}',
    '{',
  ]) {
    expect(() => parseCredentialsRequest(bad)).toThrow(RequestError);
  }
  expect(MAX_BODY_BYTES).toBeLessThanOrEqual(4096);
});

test('the issued TTL never exceeds the relay credentialTTL', () => {
  expect(relayCredentialTtl({ auth: { credentialTTL: '10m' } })).toBe(600);
  expect(relayCredentialTtl({})).toBe(3600); // the schema default
  expect(issuedTtl(undefined, 600)).toBe(600);
  expect(issuedTtl(60, 600)).toBe(60);
  expect(issuedTtl(86_400, 600)).toBe(600);
});

test('each key has its own bucket; a refused key takes nothing; the map stays bounded', () => {
  let now = 0;
  const limiter = new KeyedLimiter({ qps: 1, burst: 2, maxKeys: 3, now: () => now });
  expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0]);
  expect(limiter.take('a')).toBe(1000);
  expect(limiter.wait('a')).toBe(1000);
  expect(limiter.take('b')).toBe(0); // another identity is unaffected
  now += 500;
  expect(limiter.take('a')).toBe(500); // refusals do not push the refill further out
  now += 500;
  expect(limiter.take('a')).toBe(0);
  for (const k of ['c', 'd', 'e', 'f']) limiter.take(k);
  expect(limiter.size).toBeLessThanOrEqual(3);
  expect(limiter.wait('never-seen')).toBe(0);
});
