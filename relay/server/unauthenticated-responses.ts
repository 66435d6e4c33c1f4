// A token bucket per source for answers to unauthenticated UDP requests.
// Those sources can be spoofed, so without a bound the relay would reflect
// traffic at whoever the attacker names. Sources are bucketed like the
// auth-failure limiter (/32, IPv6 /64). Memory is capped: past maxTracked
// the least recently seen bucket is forgotten (a forgotten source starts
// again with a full burst, which still bounds what any one victim receives
// to the attacker's own spray rate divided across maxTracked sources).
import { clientBucket } from '../auth/failure-limiter.js';

interface Bucket {
  tokens: number;
  last: number;
}

export class UnauthenticatedResponseLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly maxTracked: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: { perSecond: number; burst?: number; maxTracked?: number }) {
    this.perSecond = opts.perSecond;
    this.burst = opts.burst ?? 2 * opts.perSecond;
    this.maxTracked = opts.maxTracked ?? 100_000;
  }

  get trackedCount(): number {
    return this.buckets.size;
  }

  /** Takes one response from the source's budget; false when it has none left. */
  allow(ip: string, nowMs: number): boolean {
    const key = clientBucket(ip);
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.last) * this.perSecond) / 1000);
      b.last = nowMs;
      this.buckets.delete(key); // re-insert: Map order is recency order
    } else {
      b = { tokens: this.burst, last: nowMs };
      if (this.buckets.size >= this.maxTracked) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
