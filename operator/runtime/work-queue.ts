// The reconcile work queue, modelled on client-go's workqueue semantics:
// - a key is queued at most once (adding a queued key is a no-op);
// - a key is never handed to two workers at once: a key added while it is
//   being processed is queued again only when the worker calls done();
// - failures are retried with per-key exponential backoff, bounded by a global
//   token bucket so many failing keys cannot flood the API server;
// - addAfter() schedules timed work (secret rotation), keeping the earliest;
//   a long wait is a chain of timers of at most MAX_TIMER_MS each, because
//   setTimeout turns anything above 2^31-1 ms (~24.8 days) into 1 ms;
// - cancel() drops a key's timer and failure history (its object is gone).
import { PerKeyBackoff } from './backoff.js';
import { TokenBucket } from './token-bucket.js';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Longest single timer; longer delays re-arm until their deadline. */
export const MAX_TIMER_MS = 60 * 60_000;

export interface WorkQueueOptions {
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Global retry rate limit. */
  qps?: number;
  burst?: number;
  timers?: Timers;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly backoff: PerKeyBackoff;
  private readonly bucket: TokenBucket;
  private readonly timers: Timers;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.timers = opts.timers ?? realTimers;
    this.backoff = new PerKeyBackoff(opts.baseBackoffMs ?? 5, opts.maxBackoffMs ?? 300_000);
    this.bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, () => this.timers.now());
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get length(): number {
    return this.queue.length;
  }

  get delayedCount(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Adds `key` after `ms`; if it is already scheduled earlier, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (Number.isNaN(ms)) throw new RangeError(`addAfter(${key}): delay is NaN`);
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.timers.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.timers.clearTimeout(existing.handle);
    this.arm(key, at);
  }

  private arm(key: string, at: number): void {
    const wait = Math.min(Math.max(at - this.timers.now(), 0), MAX_TIMER_MS);
    const handle = this.timers.setTimeout(() => {
      if (this.timers.now() < at) {
        this.arm(key, at);
        return;
      }
      this.delayed.delete(key);
      this.add(key);
    }, wait);
    this.delayed.set(key, { at, handle });
  }

  /** Forgets everything about `key`: its pending timer and its failure history. */
  cancel(key: string): void {
    const existing = this.delayed.get(key);
    if (existing) this.timers.clearTimeout(existing.handle);
    this.delayed.delete(key);
    this.backoff.forget(key);
  }

  /** Retry after a failure: per-key exponential backoff, at least the global rate limit. */
  addRateLimited(key: string): number {
    const delay = Math.max(this.backoff.next(key), this.bucket.reserve());
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure history of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  failures(key: string): number {
    return this.backoff.count(key);
  }

  /** Next key to process; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; re-queues it if it was added while being processed. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.timers.clearTimeout(handle);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
