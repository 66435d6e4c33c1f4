// A global rate limit for retries: a token bucket that refills at `qps` up to
// `burst`. `reserve()` never blocks; it hands out a token (possibly one that
// will only exist in the future) and says how long the caller must wait for
// it, so a storm of failing keys spreads out instead of hammering the API.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly qps: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`token bucket needs qps > 0 and burst >= 1 (got qps=${qps}, burst=${burst})`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; returns the delay in ms until that token is really available. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }
}
