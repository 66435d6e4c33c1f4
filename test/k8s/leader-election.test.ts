// LeaderElector against a real Lease on the real API server, with its clock
// stepped by the test: takeover of a lease another holder stopped renewing
// (timed on our own clock, not the holder's), a leader that can no longer
// renew stepping down, and a release that hands over at once.
import { pino } from 'pino';
import { kubeConfigForServiceAccount } from './harness/cluster.js';
import { TEST_AGENT, kc, ns, rest, useNamespacePerTest, waitFor } from './operator-fixtures.js';
import { KubeRest } from '../../operator/runtime/kube-rest.js';
import { LeaderElector, microTime } from '../../operator/runtime/leader-election.js';
import type { Timers } from '../../operator/runtime/work-queue.js';

const LEASE = 'le-test';
const LEASE_DURATION_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;
const leasePath = () => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${LEASE}`;

interface LeaseObject {
  metadata: { name: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}
const lease = () => rest.get<LeaseObject>(leasePath());

/** A clock that moves only when the test steps it; the elector's retry timer fires on step(). */
class SteppedTimers implements Timers {
  nowMs = Date.parse('2026-03-01T12:00:00Z');
  private next: (() => void) | undefined;
  private scheduled: (() => void) | undefined;

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void): unknown {
    this.next = fn;
    this.scheduled?.();
    return fn;
  }

  clearTimeout(handle: unknown): void {
    if (this.next === handle) this.next = undefined;
  }

  /** Resolves once the current attempt has finished and the next one is scheduled. */
  async settled(): Promise<void> {
    while (!this.next) await new Promise<void>((resolve) => (this.scheduled = resolve));
  }

  /** Moves the clock by `ms`, runs the next attempt and waits for it to finish. */
  async step(ms: number): Promise<void> {
    await this.settled();
    const fn = this.next!;
    this.next = undefined;
    this.nowMs += ms;
    fn();
    await this.settled();
  }
}

interface Candidate {
  elector: LeaderElector;
  timers: SteppedTimers;
  readonly started: number;
  readonly stopped: number;
}

const electors: LeaderElector[] = [];
const clients: KubeRest[] = [];
useNamespacePerTest('leader-election', {
  tearDown: async () => {
    for (const e of electors.splice(0)) await e.stop();
    for (const c of clients.splice(0)) c.close();
  },
});

function candidate(identity: string, client: KubeRest = rest): Candidate {
  const timers = new SteppedTimers();
  const counts = { started: 0, stopped: 0 };
  const elector = new LeaderElector({
    rest: client,
    namespace: ns,
    name: LEASE,
    identity,
    timers,
    leaseDurationMs: LEASE_DURATION_MS,
    renewDeadlineMs: RENEW_DEADLINE_MS,
    retryPeriodMs: RETRY_MS,
    log: pino({ level: 'silent' }),
    onStartedLeading: () => {
      counts.started++;
    },
    onStoppedLeading: () => {
      counts.stopped++;
    },
  });
  electors.push(elector);
  return {
    elector,
    timers,
    get started() {
      return counts.started;
    },
    get stopped() {
      return counts.stopped;
    },
  };
}

async function createForeignLease(holder: string, renewTime: string): Promise<void> {
  await rest.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, {
    body: {
      metadata: { name: LEASE },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: LEASE_DURATION_MS / 1000,
        acquireTime: renewTime,
        renewTime,
        leaseTransitions: 3,
      },
    },
  });
}

test('a free lease is acquired at once', async () => {
  const a = candidate('op-a');
  a.elector.start();
  await a.timers.settled();
  expect({ leader: a.elector.isLeader(), started: a.started }).toEqual({ leader: true, started: 1 });
  const { spec } = await lease();
  expect(spec).toMatchObject({
    holderIdentity: 'op-a',
    leaseDurationSeconds: 15,
    leaseTransitions: 0,
    renewTime: microTime(a.timers.nowMs),
    acquireTime: microTime(a.timers.nowMs),
  });

  await a.timers.step(RETRY_MS); // renewals keep acquireTime and move renewTime
  expect((await lease()).spec).toMatchObject({
    holderIdentity: 'op-a',
    acquireTime: spec.acquireTime,
    renewTime: microTime(a.timers.nowMs),
  });
  expect(a.started).toBe(1);
});

test('a lease another holder stopped renewing is taken over only after leaseDuration on our own clock', async () => {
  // The holder's renewTime says nothing about when it expires for us: it may come from a skewed clock.
  await createForeignLease('ghost', microTime(Date.parse('2000-01-01T00:00:00Z')));
  const b = candidate('op-b');
  b.elector.start();
  await b.timers.settled();
  expect(b.elector.isLeader()).toBe(false);

  await b.timers.step(LEASE_DURATION_MS - 1_000);
  expect(b.elector.isLeader()).toBe(false);

  // The holder renews: a changed record restarts our observation.
  const current = await lease();
  await rest.request('PUT', leasePath(), {
    body: { ...current, spec: { ...current.spec, renewTime: microTime(Date.parse('2000-01-01T00:00:30Z')) } },
  });
  await b.timers.step(2_000);
  await b.timers.step(LEASE_DURATION_MS - 2_000);
  expect(b.elector.isLeader()).toBe(false);
  expect((await lease()).spec.holderIdentity).toBe('ghost');

  await b.timers.step(2_000); // leaseDuration after the last change we saw
  expect({ leader: b.elector.isLeader(), started: b.started }).toEqual({ leader: true, started: 1 });
  expect((await lease()).spec).toMatchObject({
    holderIdentity: 'op-b',
    leaseTransitions: 4,
    acquireTime: microTime(b.timers.nowMs),
  });
});

test('a leader that can no longer renew is fenced at renewDeadline and steps down', async () => {
  // op-c may use Leases only while its RoleBinding exists.
  await rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'op-c' } } });
  await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    body: {
      metadata: { name: 'leases' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    },
  });
  const binding = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`;
  await rest.request('POST', binding, {
    body: {
      metadata: { name: 'leases' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
      subjects: [{ kind: 'ServiceAccount', name: 'op-c', namespace: ns }],
    },
  });
  const client = await KubeRest.fromKubeConfig(
    await kubeConfigForServiceAccount(ns, 'op-c', { admin: kc }),
    TEST_AGENT,
  );
  clients.push(client);
  const c = candidate('op-c', client);
  c.elector.start();
  await waitFor('op-c leads', async () => {
    if (!c.elector.isLeader()) await c.timers.step(0);
    return c.elector.isLeader();
  });
  let lastRenewMs = c.timers.nowMs;

  await rest.request('DELETE', `${binding}/leases`);
  // Step until an attempt really fails (the authorizer sees the deletion within moments).
  await waitFor(
    'a failed renewal',
    async () => {
      await c.timers.step(10);
      if ((await lease()).spec.renewTime === microTime(c.timers.nowMs)) {
        lastRenewMs = c.timers.nowMs;
        return false;
      }
      return true;
    },
    30_000,
    100,
  );
  expect({ leader: c.elector.isLeader(), stopped: c.stopped }).toEqual({ leader: true, stopped: 0 });

  // No attempt runs in between: isLeader() fences on the last renewal by itself.
  c.timers.nowMs = lastRenewMs + RENEW_DEADLINE_MS - 1;
  expect(c.elector.isLeader()).toBe(true);
  c.timers.nowMs = lastRenewMs + RENEW_DEADLINE_MS;
  expect(c.elector.isLeader()).toBe(false);
  expect(c.stopped).toBe(0);

  await c.timers.step(0); // the next failed attempt steps down
  expect({ leader: c.elector.isLeader(), started: c.started, stopped: c.stopped }).toEqual({
    leader: false,
    started: 1,
    stopped: 1,
  });
  expect((await lease()).spec.holderIdentity).toBe('op-c'); // it could not write, and others wait out leaseDuration
});

test('a leader that stops releases the lease and a standby takes over without waiting for it to expire', async () => {
  const a = candidate('op-a');
  a.elector.start();
  await a.timers.settled();
  const b = candidate('op-b');
  b.elector.start();
  await b.timers.settled();
  await b.timers.step(RETRY_MS);
  expect({ a: a.elector.isLeader(), b: b.elector.isLeader() }).toEqual({ a: true, b: false });

  await a.elector.stop();
  expect({ leader: a.elector.isLeader(), stopped: a.stopped }).toEqual({ leader: false, stopped: 1 });
  const released = (await lease()).spec;
  expect(released.holderIdentity).toBeUndefined();
  expect(released.leaseDurationSeconds).toBe(1);

  await b.timers.step(RETRY_MS); // far less than leaseDuration on b's clock
  expect({ leader: b.elector.isLeader(), started: b.started }).toEqual({ leader: true, started: 1 });
  expect((await lease()).spec).toMatchObject({ holderIdentity: 'op-b', leaseTransitions: 0 });
});
