// Leader election on a coordination.k8s.io/v1 Lease, following client-go's
// rules so two operator instances never both write:
// - a lease held by someone else counts as expired only when *we* have not
//   seen its record change for leaseDuration (our clock, not theirs);
// - updates carry the resourceVersion, so two candidates cannot both win;
// - the leader gives up when it could not renew within renewDeadline, which
//   is shorter than leaseDuration, so it stops before anyone else may start;
// - isLeader() additionally fences on the last successful renewal, in case
//   the renew loop itself is stalled;
// - on shutdown the leader releases the lease so a standby takes over at once.
// Time comes from injectable timers (like the work queue's), so tests can
// step through expiry and deadlines against a real API server.
import type { Logger } from '../../shared/log.js';
import { isConflict, isNotFound, type KubeRest } from './kube-rest.js';
import { collectionPath, LEASE_KIND, objectPath } from './resources.js';
import { realTimers, type Timers } from './work-queue.js';

export interface LeaderElectionOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  /** Clock and retry timer; real time unless a test steps it. */
  timers?: Timers;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** MicroTime: RFC 3339 with exactly six fractional digits, as the API server requires. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private lastRenewMs = 0;
  private observed: { record: string; atMs: number } | undefined;
  private readonly timers: Timers;
  private timer: unknown;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.timers = opts.timers ?? realTimers;
    if (!(this.renewDeadlineMs < this.leaseDurationMs) || !(this.retryPeriodMs < this.renewDeadlineMs)) {
      throw new Error('leader election needs retryPeriod < renewDeadline < leaseDuration');
    }
  }

  isLeader(): boolean {
    return this.leading && this.timers.now() - this.lastRenewMs < this.renewDeadlineMs;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.tryAcquireOrRenew()
        .then((ok) => this.afterAttempt(ok))
        .catch((err: unknown) => {
          this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease update failed');
          this.afterAttempt(false);
        })
        .finally(() => {
          if (!this.stopped) this.timer = this.timers.setTimeout(tick, this.retryPeriodMs);
        });
    };
    tick();
  }

  private afterAttempt(ok: boolean): void {
    const now = this.timers.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading) {
        this.leading = true;
        this.opts.log.info({ lease: this.opts.name, identity: this.opts.identity }, 'became leader');
        this.opts.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenewMs >= this.renewDeadlineMs) {
      this.leading = false;
      this.opts.log.warn({ lease: this.opts.name }, 'lost leadership: could not renew the lease in time');
      this.opts.onStoppedLeading();
    }
  }

  private path(): string {
    return objectPath(LEASE_KIND, this.opts.namespace, this.opts.name);
  }

  private spec(prev: LeaseSpec | undefined, nowMs: number): LeaseSpec {
    const ours = prev?.holderIdentity === this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: ours && prev.acquireTime ? prev.acquireTime : microTime(nowMs),
      renewTime: microTime(nowMs),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (ours || !prev?.holderIdentity ? 0 : 1),
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { rest, namespace, name, identity } = this.opts;
    const now = this.timers.now();
    const lease = await rest.find<Lease>(this.path());
    if (!lease) {
      try {
        await rest.request('POST', collectionPath(LEASE_KIND, namespace), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: this.spec(undefined, now),
          },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false; // someone else created it first
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, atMs: now };
    const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== identity;
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && this.observed.atMs + durationMs > now) return false;
    try {
      await rest.request('PUT', this.path(), { body: { ...lease, spec: this.spec(spec, now) } });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  /** Stops campaigning; a leader releases the lease so a standby can take over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.opts.rest.find<Lease>(this.path());
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        const now = microTime(this.timers.now());
        await this.opts.rest.request('PUT', this.path(), {
          body: {
            ...lease,
            spec: {
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: lease.spec.leaseTransitions ?? 0,
            },
          },
        });
        this.opts.log.info({ lease: this.opts.name }, 'released leader lease');
      }
    } catch (err) {
      this.opts.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'could not release the leader lease',
      );
    }
    this.opts.onStoppedLeading();
  }
}
