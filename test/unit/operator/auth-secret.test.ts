import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import type { V1Secret } from '@kubernetes/client-node';
import fc from 'fast-check';
import {
  CREATED_AT_ANNOTATION,
  MANAGED_ANNOTATION,
  PROPAGATION_MS,
  planAuthSecret,
} from '../../../operator/render/auth-secret.js';
import { parseSecretsFile } from '../../../shared/auth-files.js';
import { asRelay, loadSample, sampleRelay } from './support/samples.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

// rotationInterval 24h, credentialTTL 1h (the full sample)
const relay = sampleRelay('full-tls-cert-manager.yaml');
const counter = () => {
  let n = 0;
  return () => `secret-${++n}`;
};
const secretsOf = (secret: V1Secret) =>
  parseSecretsFile(Buffer.from(secret.data!['secrets']!, 'base64').toString('utf8'));
/** The API server's view after a write: what the next plan sees. */
const stored = (secret: V1Secret): V1Secret => ({
  ...structuredClone(secret),
  metadata: { ...secret.metadata, resourceVersion: '1' },
});

describe('planAuthSecret', () => {
  test('creates the Secret with one random secret when absent', () => {
    const plan = planAuthSecret(undefined, relay, T0, counter());
    expect(plan).toMatchObject({ create: true, managed: true, requeueAfterMs: 24 * HOUR });
    const secret = plan.secret!;
    expect(secret.metadata).toMatchObject({
      name: 'edge-turn-auth',
      namespace: 'media',
      annotations: {
        [MANAGED_ANNOTATION]: 'true',
        [CREATED_AT_ANNOTATION]: JSON.stringify(['2026-01-01T00:00:00.000Z']),
      },
    });
    expect(secret.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'TurnRelay', name: 'edge', controller: true }),
    ]);
    expect(secret.metadata!.labels?.['turnrelay.dev/relay']).toBeUndefined();
    expect(secretsOf(secret)).toEqual(['secret-1']);
    expect(secret.data!['users']).toBe('');
    expect(secret.type).toBe('Opaque');
  });

  test('uses spec.auth.secretRef as the name', () => {
    const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
    manifest.spec.auth = { secretRef: { name: 'shared-auth' } };
    expect(planAuthSecret(undefined, asRelay(manifest), T0, counter()).secret?.metadata?.name).toBe('shared-auth');
  });

  test('writes nothing before the rotation interval', () => {
    const created = stored(planAuthSecret(undefined, relay, T0, counter()).secret!);
    const plan = planAuthSecret(created, relay, T0 + 23 * HOUR, counter());
    expect(plan).toEqual({ create: false, managed: true, requeueAfterMs: HOUR });
  });

  test('rotation stages a new secret, promotes it once relays have it, and keeps the old one byte-identical for the overlap', () => {
    const newSecret = counter();
    const first = stored(planAuthSecret(undefined, relay, T0, newSecret).secret!);
    const staged = planAuthSecret(first, relay, T0 + 24 * HOUR, newSecret);
    expect(staged.create).toBe(false);
    // secret-2 verifies at once but is not minted with until it has reached every relay pod.
    expect(secretsOf(staged.secret!)).toEqual(['secret-1', 'secret-2']);
    expect(staged.requeueAfterMs).toBe(PROPAGATION_MS);
    expect(staged.secret!.metadata!.resourceVersion).toBe('1'); // optimistic concurrency on update
    const second = stored(staged.secret!);
    expect(planAuthSecret(second, relay, T0 + 24 * HOUR + PROPAGATION_MS - 1, newSecret).secret).toBeUndefined();
    const promotedAt = T0 + 24 * HOUR + PROPAGATION_MS;
    const promoted = planAuthSecret(second, relay, promotedAt, newSecret);
    expect(secretsOf(promoted.secret!)).toEqual(['secret-2', 'secret-1']);
    expect(promoted.requeueAfterMs).toBe(HOUR); // when secret-1 may go
    const third = stored(promoted.secret!);
    // One millisecond before the overlap ends, the old secret is still there.
    expect(planAuthSecret(third, relay, promotedAt + HOUR - 1, newSecret).secret).toBeUndefined();
    const dropped = planAuthSecret(third, relay, promotedAt + HOUR, newSecret);
    expect(secretsOf(dropped.secret!)).toEqual(['secret-2']);
    expect(dropped.requeueAfterMs).toBe(23 * HOUR); // a full interval after secret-2 started signing
  });

  test('rotation keeps other keys such as users', () => {
    const first = stored(planAuthSecret(undefined, relay, T0, counter()).secret!);
    first.data!['users'] = Buffer.from('alice:wonderland\n').toString('base64');
    const rotated = planAuthSecret(first, relay, T0 + 24 * HOUR, counter());
    expect(rotated.secret!.data!['users']).toBe(first.data!['users']);
  });

  test('never touches a Secret the operator did not create', () => {
    const mine: V1Secret = {
      metadata: { name: 'edge-turn-auth', namespace: 'media' },
      data: { secrets: Buffer.from('hand-made\n').toString('base64') },
    };
    const plan = planAuthSecret(mine, relay, T0 + 1000 * HOUR, counter());
    expect(plan).toEqual({
      create: false,
      managed: false,
      note: expect.stringContaining('rotating its secrets is up to its owner'),
    });
    const empty = planAuthSecret({ metadata: { name: 'edge-turn-auth' } }, relay, T0, counter());
    expect(empty.note).toContain('has no "secrets" key');
  });

  test("another relay's managed Secret is only read: one writer per Secret", () => {
    const owners = stored(planAuthSecret(undefined, relay, T0, counter()).secret!);
    const other = asRelay(
      {
        ...loadSample('full-tls-cert-manager.yaml').manifest,
        metadata: { name: 'west' },
        spec: {
          ...loadSample('full-tls-cert-manager.yaml').manifest['spec'],
          auth: { secretRef: { name: 'edge-turn-auth' } },
        },
      },
      'media',
      '7c1f3a52-0000-4000-8000-0000000000ff',
    );
    const plan = planAuthSecret(owners, other, T0 + 1000 * HOUR, counter());
    expect(plan).toEqual({
      create: false,
      managed: false,
      note: 'Secret edge-turn-auth is created and rotated by TurnRelay edge; this relay only reads it',
    });
    // A hand-made copy of the annotation without the owner reference is not enough either.
    const forged = { ...owners, metadata: { ...owners.metadata, ownerReferences: [] } };
    expect(planAuthSecret(forged, relay, T0 + 1000 * HOUR, counter()).secret).toBeUndefined();
    // The owner still rotates it.
    expect(planAuthSecret(owners, relay, T0 + 25 * HOUR, counter()).secret).toBeDefined();
  });

  test('a managed Secret whose annotation no longer matches is left alone, with a note', () => {
    const first = stored(planAuthSecret(undefined, relay, T0, counter()).secret!);
    first.data!['secrets'] = Buffer.from('secret-1\nadded-by-hand\n').toString('base64');
    const plan = planAuthSecret(first, relay, T0 + 48 * HOUR, counter());
    expect(plan.secret).toBeUndefined();
    expect(plan.note).toMatch(/does not match/);
  });

  test('a managed Secret with a line the relays would refuse is never rotated along, with a note that keeps the value out', () => {
    const first = stored(planAuthSecret(undefined, relay, T0, counter()).secret!);
    first.data!['secrets'] = Buffer.from('secret-1\nbad\u0007value\n').toString('base64');
    const plan = planAuthSecret(first, relay, T0 + 48 * HOUR, counter());
    expect(plan).toEqual({
      create: false,
      managed: true,
      note: expect.stringMatching(/line 2: contains control characters; rotation paused/),
    });
    expect(plan.note).not.toContain('bad');
  });

  test('after a long outage only one secret is added, and the next rotation is a full interval later', () => {
    // One generator, as in the operator: every new secret is a fresh value.
    const newSecret = counter();
    const first = stored(planAuthSecret(undefined, relay, T0, newSecret).secret!);
    const plan = planAuthSecret(first, relay, T0 + 100 * HOUR, newSecret);
    expect(secretsOf(plan.secret!)).toHaveLength(2);
    expect(plan.requeueAfterMs).toBe(PROPAGATION_MS);
    const promoted = planAuthSecret(stored(plan.secret!), relay, T0 + 100 * HOUR + PROPAGATION_MS, newSecret);
    expect(secretsOf(promoted.secret!)).toHaveLength(2);
    expect(promoted.requeueAfterMs).toBe(HOUR);
  });

  test('property: a credential minted with the signing secret verifies until it expires; a secret signs only after it has propagated; values never change', () => {
    const intervalH = fc.integer({ min: 1, max: 48 });
    const ttlH = fc.integer({ min: 1, max: 72 });
    const steps = fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 * 60 })), {
      minLength: 1,
      maxLength: 120,
    }); // minutes between reconciles, often just after a rotation
    fc.assert(
      fc.property(intervalH, ttlH, steps, (interval, ttl, gaps) => {
        const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
        manifest.spec.auth = { rotationInterval: `${interval}h`, credentialTTL: `${ttl}h` };
        const r = asRelay(manifest);
        const newSecret = counter();
        let now = T0;
        let secret = stored(planAuthSecret(undefined, r, now, newSecret).secret!);
        const minted: Array<{ value: string; expires: number }> = [];
        const everSeen = new Set<string>(secretsOf(secret));
        const firstSeen = new Map<string, number>(secretsOf(secret).map((v) => [v, -Infinity]));
        for (const gap of gaps) {
          minted.push({ value: secretsOf(secret)[0]!, expires: now + ttl * HOUR });
          now += gap * 60_000;
          const plan = planAuthSecret(secret, r, now, newSecret);
          if (plan.secret) secret = stored(plan.secret);
          const current = secretsOf(secret);
          for (const c of minted) if (c.expires >= now && !current.includes(c.value)) return false;
          // A dropped secret never comes back; new ones are fresh values.
          for (const v of current) {
            everSeen.add(v);
            if (!firstSeen.has(v)) firstSeen.set(v, now);
          }
          // What clients get minted with was in the Secret long enough for every relay to have it.
          if (now - firstSeen.get(current[0]!)! < Math.min(PROPAGATION_MS, (interval * HOUR) / 2)) return false;
          if (new Set(current).size !== current.length) return false;
          if (plan.requeueAfterMs === undefined || plan.requeueAfterMs <= 0) return false;
        }
        return everSeen.size === Number(newSecret().split('-')[1]) - 1;
      }),
      { numRuns: 300 },
    );
  });
});
