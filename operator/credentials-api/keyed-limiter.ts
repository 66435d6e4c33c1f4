// Rate limits per key (a caller's identity, a client address): one token
// bucket each, in a bounded map so a flood of distinct keys cannot grow
// memory without bound. Full buckets carry no state worth keeping and are
// dropped first.
import { TokenBucket } from '../runtime/token-bucket.js';

export interface KeyedLimiterOptions {
  qps: number;
  burst: number;
  maxKeys?: number;
  now?: () => number;
}

export class KeyedLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxKeys: number;

  constructor(private readonly opts: KeyedLimiterOptions) {
    this.maxKeys = opts.maxKeys ?? 10_000;
    new TokenBucket(opts.qps, opts.burst); // validates the settings up front
  }

  /** 0 when `key` may proceed now, else the ms until it may. */
  take(key: string): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evict();
      bucket = new TokenBucket(this.opts.qps, this.opts.burst, this.opts.now);
      this.buckets.set(key, bucket);
    }
    return bucket.tryTake();
  }

  /** Ms until `key` has a token again, without taking one (0: it has one now). */
  wait(key: string): number {
    return this.buckets.get(key)?.wait() ?? 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    for (const [k, b] of this.buckets) if (b.full) this.buckets.delete(k);
    // Still full of busy keys: drop the oldest (a new key starts with a full bucket, as it would after a restart).
    while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
