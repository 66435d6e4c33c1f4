// Exponential backoff per key: base * 2^failures, capped. Used by the work
// queue for failed reconciles and by informers for restarts.
export function exponentialDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return baseMs;
  // 2^failures overflows to Infinity long before it matters; the cap handles it.
  return Math.min(maxMs, baseMs * 2 ** failures);
}

export class PerKeyBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** Delay for the next retry of `key`; counts one more failure. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return exponentialDelay(n, this.baseMs, this.maxMs);
  }

  count(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
