// Records core/v1 Events on a TurnRelay for important transitions (created
// auth Secret, rotation, invalid spec, Ready changes, restored children).
// Like client-go's event correlator:
// - aggregation: the same type/reason/message on the same object within
//   SERIES_WINDOW_MS is one Event whose count goes up (a fight with another
//   controller makes one Event with a growing count, not thousands);
// - rate limits: new Events per object come from a token bucket, and a series
//   is patched at most once per flush interval, later repeats folded into
//   the next patch.
// Event writes are best effort: failing to record must never fail a reconcile.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/log.js';
import { KubeApiError, CONTENT, type KubeRest } from './kube-rest.js';
import { collectionPath, EVENT_KIND, objectPath } from './resources.js';
import { TokenBucket } from './token-bucket.js';
import { realTimers, type Timers } from './work-queue.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  timers?: Timers;
  /** New Events per object: burst, then one per refillMs. */
  burst?: number;
  refillMs?: number;
  /** Shortest time between two patches of one series. */
  flushMs?: number;
}

/** Repeats further apart than this start a new Event (client-go uses 10 minutes). */
export const SERIES_WINDOW_MS = 10 * 60_000;
const MAX_SERIES = 4096;

interface Series {
  name: string;
  namespace: string;
  count: number;
  written: number;
  lastSeenMs: number;
  lastWriteMs: number;
  flushTimer?: unknown;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly timers: Timers;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly flushMs: number;
  dropped = 0;

  constructor(
    private readonly rest: KubeRest,
    private readonly component: string,
    private readonly instance: string,
    private readonly log: Logger,
    opts: EventRecorderOptions = {},
  ) {
    this.timers = opts.timers ?? realTimers;
    this.burst = opts.burst ?? 25;
    this.refillMs = opts.refillMs ?? 30_000;
    this.flushMs = opts.flushMs ?? 1_000;
  }

  async record(target: EventTarget, type: EventType, reason: string, rawMessage: string): Promise<void> {
    // The API server caps event messages; keep ours well inside.
    const message = rawMessage.slice(0, 1024);
    const now = this.timers.now();
    const objectKey = `${target.namespace}/${target.kind}/${target.name}/${target.uid ?? ''}`;
    const key = `${objectKey}\u0000${type}\u0000${reason}\u0000${message}`;
    const existing = this.series.get(key);
    if (existing && now - existing.lastSeenMs < SERIES_WINDOW_MS) {
      existing.count++;
      existing.lastSeenMs = now;
      this.scheduleFlush(key, existing);
      return;
    }
    if (this.bucketFor(objectKey).tryTake() !== 0) {
      this.dropped++;
      this.log.debug({ reason, target: `${target.namespace}/${target.name}` }, 'event rate limited');
      return;
    }
    const name = `${target.name}.${randomBytes(8).toString('hex')}`;
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: target.namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        namespace: target.namespace,
        uid: target.uid,
      },
      type,
      reason,
      message,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: isoSeconds(now),
      lastTimestamp: isoSeconds(now),
      count: 1,
    };
    try {
      await this.rest.request('POST', collectionPath(EVENT_KIND, target.namespace), { body: event });
    } catch (err) {
      this.log.warn(
        { reason, target: `${target.namespace}/${target.name}`, err: err instanceof Error ? err.message : String(err) },
        'could not record event',
      );
      return;
    }
    if (existing?.flushTimer !== undefined) this.timers.clearTimeout(existing.flushTimer);
    this.series.delete(key);
    this.series.set(key, {
      name,
      namespace: target.namespace,
      count: 1,
      written: 1,
      lastSeenMs: now,
      lastWriteMs: now,
    });
    this.evictOldest();
  }

  private bucketFor(objectKey: string): TokenBucket {
    let bucket = this.buckets.get(objectKey);
    if (!bucket) {
      bucket = new TokenBucket(1000 / this.refillMs, this.burst, () => this.timers.now());
      this.buckets.set(objectKey, bucket);
      if (this.buckets.size > MAX_SERIES) this.buckets.delete(this.buckets.keys().next().value!);
    }
    return bucket;
  }

  private evictOldest(): void {
    while (this.series.size > MAX_SERIES) {
      const [oldKey, old] = this.series.entries().next().value!;
      if (old.flushTimer !== undefined) this.timers.clearTimeout(old.flushTimer);
      this.series.delete(oldKey);
    }
  }

  private scheduleFlush(key: string, s: Series): void {
    if (s.flushTimer !== undefined) return;
    const wait = Math.max(0, s.lastWriteMs + this.flushMs - this.timers.now());
    s.flushTimer = this.timers.setTimeout(() => {
      s.flushTimer = undefined;
      void this.flush(key, s);
    }, wait);
  }

  private async flush(key: string, s: Series): Promise<void> {
    if (s.count === s.written) return;
    const count = s.count;
    s.lastWriteMs = this.timers.now();
    try {
      await this.rest.request('PATCH', objectPath(EVENT_KIND, s.namespace, s.name), {
        body: { count, lastTimestamp: isoSeconds(s.lastSeenMs) },
        contentType: CONTENT.merge,
      });
      s.written = Math.max(s.written, count);
    } catch (err) {
      // The Event expired or was deleted: the next repeat starts a new one.
      if (err instanceof KubeApiError && err.code === 404) this.series.delete(key);
      else
        this.log.warn(
          { event: `${s.namespace}/${s.name}`, err: err instanceof Error ? err.message : String(err) },
          'could not update event',
        );
      s.written = count; // best effort: the next repeat tries again, a failure alone does not
      return;
    }
    if (s.count !== s.written && this.series.get(key) === s) this.scheduleFlush(key, s);
  }

  /** Writes pending counts now (for shutdown). */
  async flushAll(): Promise<void> {
    const pending = [...this.series].filter(([, s]) => s.count !== s.written);
    for (const [key, s] of pending) {
      if (s.flushTimer !== undefined) this.timers.clearTimeout(s.flushTimer);
      s.flushTimer = undefined;
      await this.flush(key, s);
    }
  }
}
