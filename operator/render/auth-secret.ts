// The auth Secret's lifecycle as a pure plan: create it with one random
// shared secret when absent; every rotationInterval stage a new one behind the
// signing secret, promote it to signing (first line, what credentials are
// minted with) only after it has had time to reach every relay pod's mounted
// files; drop a secret only once its successor has been the signing secret
// for at least credentialTTL, so every credential minted with it has expired.
// Existing secret values are never regenerated or rewritten. Only the relay
// that created a Secret (annotation + controller owner reference with its uid)
// writes it: a user's Secret, or one another relay created and rotates, is
// only read, so a Secret shared between relays has exactly one writer.
import type { V1Secret } from '@kubernetes/client-node';
import { durationSeconds } from '../api/duration.js';
import type { TurnRelay } from '../api/turnrelay.js';
import { parseSecretsFile } from '../../shared/auth-files.js';
import { describeController, ownedBy } from './ownership.js';
import { AUTH_SECRET_LABELS, authSecretNameFor, ownerReference, relayNamespace, selectorLabels } from './names.js';

/** Marks a Secret the operator created and may rotate. */
export const MANAGED_ANNOTATION = 'turnrelay.dev/managed-auth-secret';
/**
 * JSON array of ISO-8601 times, one per line of `secrets`: when that secret
 * became the signing secret (for the first line and older ones), or when it
 * was staged (a second line newer than the first).
 */
export const CREATED_AT_ANNOTATION = 'turnrelay.dev/secrets-created-at';
export const SECRETS_KEY = 'secrets';
export const USERS_KEY = 'users';

export type AuthSecretPlan = {
  /** Full desired object to create or update; undefined = no write. */
  secret?: V1Secret;
  create: boolean;
  /** Time until the next rotation or drop. */
  requeueAfterMs?: number;
  /** Whether the operator rotates this Secret. */
  managed: boolean;
  /** Why the Secret is left alone, for the status message. */
  note?: string;
};

type Entry = { value: string; createdMs: number };

const MIN_REQUEUE_MS = 1000;

function decodeKey(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

function readEntries(secret: V1Secret): Entry[] | string {
  const text = decodeKey(secret, SECRETS_KEY);
  if (text === undefined) return `has no "${SECRETS_KEY}" key`;
  let values: string[];
  try {
    // The relay's own parser: a value the relays would refuse is never rotated along.
    values = parseSecretsFile(text);
  } catch (err) {
    return `${(err as Error).message}; rotation paused until it is fixed`;
  }
  let times: unknown;
  try {
    times = JSON.parse(secret.metadata?.annotations?.[CREATED_AT_ANNOTATION] ?? 'null');
  } catch {
    times = null;
  }
  const createdMs = Array.isArray(times) ? times.map((t) => (typeof t === 'string' ? Date.parse(t) : NaN)) : [];
  if (values.length === 0 || createdMs.length !== values.length || createdMs.some(Number.isNaN)) {
    return `annotation ${CREATED_AT_ANNOTATION} does not match the ${values.length} secret(s); rotation paused until it does`;
  }
  return values.map((value, i) => ({ value, createdMs: createdMs[i]! }));
}

function writeEntries(base: V1Secret, entries: Entry[]): V1Secret {
  const metadata = { ...base.metadata };
  delete metadata.managedFields;
  metadata.annotations = {
    ...metadata.annotations,
    [MANAGED_ANNOTATION]: 'true',
    [CREATED_AT_ANNOTATION]: JSON.stringify(entries.map((e) => new Date(e.createdMs).toISOString())),
  };
  const text = entries.map((e) => e.value).join('\n') + '\n';
  const data = { ...base.data, [SECRETS_KEY]: Buffer.from(text, 'utf8').toString('base64') };
  const secret: V1Secret = { ...base, apiVersion: 'v1', kind: 'Secret', metadata, data };
  delete secret.stringData;
  return secret;
}

function freshSecretValue(newSecret: () => string): string {
  const value = newSecret();
  if (!value || /\s/.test(value) || value.startsWith('#'))
    throw new Error('newSecret() must return a non-empty token without whitespace');
  return value;
}

/**
 * How long a staged secret waits before it signs: the kubelet refreshes
 * mounted Secrets about once a minute, and relays must know a secret before
 * any client presents a credential minted with it.
 */
export const PROPAGATION_MS = 2 * 60_000;

/** Rotation, promotion and expiry applied to managed entries (signing secret first). */
export function rotate(entries: Entry[], nowMs: number, intervalMs: number, ttlMs: number, newSecret: () => string) {
  const propagationMs = Math.min(PROPAGATION_MS, Math.floor(intervalMs / 2));
  const [first, ...rest] = entries as [Entry, ...Entry[]];
  let signer = first;
  let staged = rest[0] && rest[0].createdMs > signer.createdMs ? rest.shift() : undefined;
  let old = rest;
  if (staged && nowMs >= staged.createdMs + propagationMs) {
    // Promotion: the staged secret signs from now on; its timestamp says since when.
    old = [signer, ...old];
    signer = { value: staged.value, createdMs: nowMs };
    staged = undefined;
  }
  if (!staged && nowMs >= signer.createdMs + intervalMs)
    staged = { value: freshSecretValue(newSecret), createdMs: nowMs };
  // An old secret stopped signing when the one before it in the chain started; keep it for ttl after that.
  const chain = [signer, ...old];
  const keep = chain.findIndex((_, i) => i > 0 && nowMs >= chain[i - 1]!.createdMs + ttlMs);
  if (keep > 0) old = chain.slice(1, keep);
  const next = [signer, ...(staged ? [staged] : []), ...old];
  const deadlines = [
    staged ? staged.createdMs + propagationMs : signer.createdMs + intervalMs,
    ...old.map((_, i) => chain[i]!.createdMs + ttlMs),
  ];
  const requeueAfterMs = Math.max(MIN_REQUEUE_MS, Math.min(...deadlines) - nowMs);
  const changed =
    next.length !== entries.length ||
    next.some((e, i) => e.value !== entries[i]!.value || e.createdMs !== entries[i]!.createdMs);
  return { entries: next, changed, requeueAfterMs };
}

export function planAuthSecret(
  existing: V1Secret | undefined,
  relay: TurnRelay,
  nowMs: number,
  newSecret: () => string,
): AuthSecretPlan {
  const intervalMs = durationSeconds(relay.spec.auth.rotationInterval) * 1000;
  const ttlMs = durationSeconds(relay.spec.auth.credentialTTL) * 1000;
  const name = authSecretNameFor(relay);

  if (!existing) {
    const base: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name,
        namespace: relayNamespace(relay),
        labels: { ...selectorLabels(relay), ...AUTH_SECRET_LABELS },
        ownerReferences: [ownerReference(relay)],
      },
      // An empty users file, so /auth/users exists; users may add entries later.
      data: { [USERS_KEY]: '' },
    };
    const secret = writeEntries(base, [{ value: freshSecretValue(newSecret), createdMs: nowMs }]);
    return { secret, create: true, managed: true, requeueAfterMs: intervalMs };
  }

  const managed = existing.metadata?.annotations?.[MANAGED_ANNOTATION] === 'true';
  if (managed && !ownedBy(existing, relay.metadata.uid ?? '')) {
    return {
      create: false,
      managed: false,
      note: `Secret ${name} is created and rotated by ${describeController(existing)}; this relay only reads it`,
    };
  }
  if (!managed) {
    const missing = decodeKey(existing, SECRETS_KEY) === undefined;
    return {
      create: false,
      managed: false,
      note: missing
        ? `Secret ${name} was not created by the operator and has no "${SECRETS_KEY}" key`
        : `Secret ${name} was not created by the operator; rotating its secrets is up to its owner`,
    };
  }

  const entries = readEntries(existing);
  if (typeof entries === 'string') return { create: false, managed: true, note: `Secret ${name} ${entries}` };
  const result = rotate(entries, nowMs, intervalMs, ttlMs, newSecret);
  return {
    ...(result.changed ? { secret: writeEntries(existing, result.entries) } : {}),
    create: false,
    managed: true,
    requeueAfterMs: result.requeueAfterMs,
  };
}
