// Two operator instances share a Lease: only the leader writes, and a
// standby takes over when the leader shuts down. A steady state makes no
// write requests at all (counted at Node's HTTP client, not by the operator).
import {
  applyRelay,
  relayObject,
  countWrites,
  liveChildren,
  markRelayPodsReady,
  setLoadBalancerIngress,
  waitFor,
  waitForCondition,
  rest,
  ns,
  useOperatorsPerTest,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';

const runOperator = useOperatorsPerTest('op-leader');

const relay = (name: string) =>
  relayObject(name, { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] });

async function reconcileCount(op: OperatorHandle): Promise<number> {
  const m = await op.metrics.registry.getSingleMetric('turnrelay_operator_reconciles_total')!.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}

test('only the leader writes; a standby takes over when the leader stops', async () => {
  const writes = countWrites();
  try {
    const le = {
      namespace: ns,
      name: 'turnrelay-operator',
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
    };
    const a = await runOperator({ identity: 'op-a', leaderElection: le });
    await waitFor('op-a leads', () => a.isLeader());
    const b = await runOperator({ identity: 'op-b', leaderElection: le });

    await applyRelay(rest, ns, relay('one'));
    await waitFor('children of one', async () => (await liveChildren(rest, ns, 'one')).length >= 5);
    await new Promise((r) => setTimeout(r, 2_000)); // several of b's retry periods
    expect(b.isLeader()).toBe(false);
    expect(writes.byAgent('turnrelay-operator/op-b')).toEqual([]);
    expect(writes.byAgent('turnrelay-operator/op-a').length).toBeGreaterThan(0);
    const lease = await rest.get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/turnrelay-operator`,
    );
    expect(lease.spec.holderIdentity).toBe('op-a');

    await a.stop(); // releases the lease
    await waitFor('op-b leads', () => b.isLeader(), 10_000);
    const afterHandover = writes.byAgent('turnrelay-operator/op-a').length;
    await applyRelay(rest, ns, relay('two'));
    await waitFor('children of two (by op-b)', async () => (await liveChildren(rest, ns, 'two')).length >= 5);
    expect(writes.byAgent('turnrelay-operator/op-a').length).toBe(afterHandover);
  } finally {
    writes.stop();
  }
});

test('a steady state makes zero write requests', async () => {
  const op = await runOperator();
  await applyRelay(rest, ns, relay('steady'));
  await setLoadBalancerIngress(rest, ns, 'steady', '203.0.113.10');
  await markRelayPodsReady(rest, ns, 'steady', 1);
  await waitForCondition(rest, ns, 'steady', 'Ready', 'True');
  await new Promise((r) => setTimeout(r, 2_000)); // let the last watch events settle

  const writes = countWrites();
  const reconcilesBefore = await reconcileCount(op);
  try {
    await new Promise((r) => setTimeout(r, 6_000)); // six resync periods of 1 s
    expect(await reconcileCount(op)).toBeGreaterThanOrEqual(reconcilesBefore + 4);
    expect(writes.byAgent('turnrelay-operator/')).toEqual([]);
  } finally {
    writes.stop();
  }
});
