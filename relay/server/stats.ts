// Control-plane counters as plain numbers; the metrics module reads them at scrape time.
export const AUTH_RESULTS = [
  'success',
  'bad_integrity',
  'unknown_user',
  'expired',
  'stale_nonce',
  'rate_limited',
  'missing',
  'ttl_too_long',
] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

export const ALLOCATION_RESULTS = [
  'success',
  'quota_reached',
  'insufficient_capacity',
  'draining',
  'rejected',
] as const;
export type AllocationResult = (typeof ALLOCATION_RESULTS)[number];

export type PeerPath = 'create_permission' | 'channel_bind' | 'send';

export interface ServerStats {
  auth: Record<AuthResult, number>;
  allocations: Record<AllocationResult, number>;
  /** Key: `${reason}|${path}`. Bounded by |reasons| x |paths|. */
  peerRefusals: Map<string, number>;
  /** Key: error kind (fixed small set of labels chosen in code). */
  errors: Map<string, number>;
  /** Answers to unauthenticated requests, sent or withheld by the per-source rate limit. */
  unauthenticatedResponses: { sent: number; rate_limited: number };
}

export function createServerStats(): ServerStats {
  return {
    auth: Object.fromEntries(AUTH_RESULTS.map((r) => [r, 0])) as Record<AuthResult, number>,
    allocations: Object.fromEntries(ALLOCATION_RESULTS.map((r) => [r, 0])) as Record<AllocationResult, number>,
    peerRefusals: new Map(),
    errors: new Map(),
    unauthenticatedResponses: { sent: 0, rate_limited: 0 },
  };
}

export function countError(stats: ServerStats, kind: string): void {
  stats.errors.set(kind, (stats.errors.get(kind) ?? 0) + 1);
}

export function countPeerRefusal(stats: ServerStats, reason: string, path: PeerPath): void {
  const key = `${reason}|${path}`;
  stats.peerRefusals.set(key, (stats.peerRefusals.get(key) ?? 0) + 1);
}
