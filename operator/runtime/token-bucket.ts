// A token bucket that refills at `qps` up to `burst` (the work queue's
// global retry limit, the credentials API's per-caller limits).
// `reserve()` never blocks; it hands out a token (possibly one that
// will only exist in the future) and says how long the caller must wait for
// it, so a storm of failing keys spreads out instead of hammering the API.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`token bucket needs qps > 0 and burst >= 1 (got qps=${qps}, burst=${burst})`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; returns the delay in ms until that token is really available. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  /** Takes a token only if one is available now; otherwise returns the ms until one will be (and takes nothing). */
  tryTake(): number {
    const ms = this.wait();
    if (ms === 0) this.tokens -= 1;
    return ms;
  }

  /** Ms until a whole token is available (0: now). */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.qps);
  }

  /** True when the bucket is full again (nothing to remember about its user). */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
    this.last = t;
  }
}
