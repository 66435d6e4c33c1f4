// The RBAC in operator/rbac.ts (from which the chart's roles are generated)
// is enough for the operator to do its whole job: it runs here as a
// ServiceAccount bound to exactly those rules, not as an admin.
import { kubeConfigForServiceAccount } from './harness/cluster.js';
import {
  applyRelay,
  childIds,
  liveChildren,
  markRelayPodsReady,
  relayObject,
  setLoadBalancerIngress,
  startTestOperator,
  waitFor,
  waitForCondition,
  kc,
  rest,
  ns,
  useNamespacePerFile,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import { OPERATOR_CLUSTER_RULES, OPERATOR_NAMESPACE_RULES } from '../../operator/rbac.js';

let operator: OperatorHandle | undefined;
const clusterRole = () => `turnrelay-operator-${ns}`;

useNamespacePerFile('op-rbac', {
  tearDown: async () => {
    await operator?.stop();
    await rest
      .request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRole()}`)
      .catch(() => undefined);
    await rest
      .request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${clusterRole()}`)
      .catch(() => undefined);
  },
});

test('the operator works with exactly the rules of operator/rbac.ts', async () => {
  const subject = [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }];
  await rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'operator' } } });
  await rest.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    body: { metadata: { name: clusterRole() }, rules: OPERATOR_CLUSTER_RULES },
  });
  await rest.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: {
      metadata: { name: clusterRole() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole() },
      subjects: subject,
    },
  });
  await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    body: { metadata: { name: 'leader-election' }, rules: OPERATOR_NAMESPACE_RULES },
  });
  await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    body: {
      metadata: { name: 'leader-election' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leader-election' },
      subjects: subject,
    },
  });
  const saKc = await kubeConfigForServiceAccount(ns, 'operator', { admin: kc });

  // Only this namespace: an all-namespace operator would fight the other test files' operators.
  operator = await startTestOperator(saKc, ns, {
    identity: 'rbac-op',
    leaderElection: { namespace: ns, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
  });
  await waitFor('leader', () => operator!.isLeader(), 15_000);
  await waitFor('ready', () => operator!.isReady(), 30_000);

  await applyRelay(
    rest,
    ns,
    relayObject('rbac', {
      realm: 'turn.example.com',
      listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }],
      autoscaling: { minReplicas: 1, maxReplicas: 2, targetCPUUtilization: 60 },
      resources: { requests: { cpu: '100m' } },
    }),
  );
  await waitFor(
    'children incl. HPA',
    async () => childIds(await liveChildren(rest, ns, 'rbac')).includes('HorizontalPodAutoscaler/rbac'),
    30_000,
  );
  await setLoadBalancerIngress(rest, ns, 'rbac', '203.0.113.20');
  await markRelayPodsReady(rest, ns, 'rbac', 1);
  await waitForCondition(rest, ns, 'rbac', 'Ready', 'True');

  // Prune (delete) and rotation-free Secret handling also pass authorization.
  await applyRelay(
    rest,
    ns,
    relayObject('rbac', { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] }),
  );
  await waitFor(
    'HPA pruned',
    async () => !childIds(await liveChildren(rest, ns, 'rbac')).includes('HorizontalPodAutoscaler/rbac'),
    30_000,
  );
  const forbidden = (await operator.metrics.apiRequests.get()).values.filter((v) => v.labels.code === '403');
  expect(forbidden).toEqual([]);
}, 120_000);
