import { MAX_TIMER_MS, WorkQueue, type Timers } from '../../../operator/runtime/work-queue.js';
import { TokenBucket } from '../../../operator/runtime/token-bucket.js';
import { exponentialDelay } from '../../../operator/runtime/backoff.js';

// A manual clock: timers fire only when the test advances time (in deadline
// order, including timers armed by timers that fired). `longest` is the
// longest delay ever handed to setTimeout.
function manualTimers(): Timers & { advance(ms: number): void; longest: number; armed: number } {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    longest: 0,
    armed: 0,
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      this.longest = Math.max(this.longest, ms);
      this.armed++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        pending.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = end;
    },
  };
}

describe('WorkQueue', () => {
  test('de-duplicates keys that are waiting', async () => {
    const q = new WorkQueue({ timers: manualTimers() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  test('a key added while processing is handed out again only after done()', async () => {
    const q = new WorkQueue({ timers: manualTimers() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0);
    q.done(key!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  test('a waiting worker receives a key as soon as it is added', async () => {
    const q = new WorkQueue({ timers: manualTimers() });
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
  });

  test('per-key backoff doubles and forget() resets it', () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers, baseBackoffMs: 10, maxBackoffMs: 1000, qps: 1000, burst: 1000 });
    expect([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')]).toEqual([10, 20, 40]);
    expect(q.addRateLimited('b')).toBe(10);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(10);
  });

  test('rate-limited keys become available only after their delay', async () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers, baseBackoffMs: 100, qps: 1000, burst: 1000 });
    q.addRateLimited('a');
    expect(q.length).toBe(0);
    timers.advance(99);
    expect(q.length).toBe(0);
    timers.advance(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  test('the global token bucket spreads out retries of many keys', () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers, baseBackoffMs: 1, qps: 10, burst: 2 });
    const delays = ['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k));
    expect(delays).toEqual([1, 1, 100, 200]);
  });

  test('addAfter keeps the earliest schedule', () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers });
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 900);
    timers.advance(100);
    expect(q.length).toBe(1);
    expect(q.delayedCount).toBe(0);
  });

  const HOUR = 3_600_000;
  // setTimeout turns a delay above 2^31-1 ms into 1 ms: a long wait must be a chain of short timers.
  test.each([
    ['720h', 720 * HOUR],
    ['10 years', 10 * 365 * 24 * HOUR],
  ])('addAfter(%s) never arms an overflowing timer and fires exactly at the deadline', (_label, delay) => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers });
    q.addAfter('a', delay);
    timers.advance(delay - 1);
    expect(q.length).toBe(0);
    expect(q.delayedCount).toBe(1);
    timers.advance(1);
    expect(q.length).toBe(1);
    expect(q.delayedCount).toBe(0);
    expect(timers.longest).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(timers.longest).toBeLessThan(2 ** 31 - 1);
    expect(timers.armed).toBe(Math.ceil(delay / MAX_TIMER_MS));
  });

  test('an earlier addAfter replaces a long chain; a NaN delay is refused', () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers });
    q.addAfter('a', 720 * HOUR);
    timers.advance(5 * HOUR);
    q.addAfter('a', 10);
    timers.advance(10);
    expect(q.length).toBe(1);
    expect(() => q.addAfter('b', Number.NaN)).toThrow(/NaN/);
  });

  test('cancel() drops the timer and the failure history of a key', () => {
    const timers = manualTimers();
    const q = new WorkQueue({ timers, baseBackoffMs: 10, qps: 1000, burst: 1000 });
    q.addAfter('gone', 720 * HOUR);
    q.addRateLimited('gone');
    q.cancel('gone');
    expect(q.delayedCount).toBe(0);
    expect(q.failures('gone')).toBe(0);
    timers.advance(721 * HOUR);
    expect(q.length).toBe(0);
  });

  test('shutdown releases waiting workers and ignores new keys', async () => {
    const q = new WorkQueue({ timers: manualTimers() });
    const pending = q.get();
    q.addAfter('later', 1000);
    q.shutdown();
    expect(await pending).toBeUndefined();
    q.add('a');
    expect(await q.get()).toBeUndefined();
    expect(q.delayedCount).toBe(0);
  });
});

describe('TokenBucket', () => {
  test('allows a burst, then one token per 1/qps', () => {
    let now = 0;
    const b = new TokenBucket(2, 3, () => now);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBe(500);
    now = 2000;
    expect(b.reserve()).toBe(0);
  });

  test('rejects nonsensical settings', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/qps > 0/);
  });
});

test('exponentialDelay is capped', () => {
  expect(exponentialDelay(0, 5, 100)).toBe(5);
  expect(exponentialDelay(3, 5, 100)).toBe(40);
  expect(exponentialDelay(2000, 5, 100)).toBe(100);
});
