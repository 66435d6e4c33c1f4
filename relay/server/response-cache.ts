// Retransmitted requests (same 5-tuple and transaction id) must get the very
// same answer (RFC 8489 §6.3.1), e.g. a retransmitted Allocate must not get
// 437. Bounded: oldest entries are evicted first, entries expire after 40 s
// (longer than a client's full retransmission schedule).
export const RESPONSE_CACHE_TTL_MS = 40_000;

export class ResponseCache {
  private readonly entries = new Map<string, { response: Buffer; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, nowMs: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt < nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.response;
  }

  set(key: string, response: Buffer, nowMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { response, expiresAt: nowMs + RESPONSE_CACHE_TTL_MS });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Drops expired entries; insertion order equals expiry order, so stop at the first live one. */
  sweep(nowMs: number): void {
    for (const [key, e] of this.entries) {
      if (e.expiresAt >= nowMs) break;
      this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
