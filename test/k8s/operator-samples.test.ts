// Each sample TurnRelay yields exactly the expected children (accepted by the
// real API server), each owned by the TurnRelay, and a status that moves from
// Progressing to Ready as the relay pods become ready.
import type { KubeConfig } from '@kubernetes/client-node';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from './harness/cluster.js';
import {
  adminRest, applyRelay, childIds, condition, getRelay, installTurnRelayCrd, liveChildren, markRelayPodsReady, readSample,
  setLoadBalancerIngress, startTestOperator, waitFor, waitForCondition,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';

let kc: KubeConfig;
let rest: KubeRest;
let ns: string;
let operator: OperatorHandle | undefined;

beforeAll(async () => {
  kc = testKubeConfig();
  rest = await adminRest(kc);
  await installTurnRelayCrd(rest);
});
afterAll(() => rest.close());

beforeEach(async () => {
  ns = await createTestNamespace('op-samples', kc);
  operator = await startTestOperator(kc, ns);
});
afterEach(async () => {
  await operator?.stop();
  await deleteTestNamespace(ns, kc);
});

async function expectOwnedChildren(name: string, expected: string[]) {
  const relay = await getRelay(rest, ns, name);
  const children = await waitFor(`children of ${name}`, async () => {
    const c = await liveChildren(rest, ns, name);
    return childIds(c).join() === expected.join() ? c : undefined;
  });
  for (const child of children) {
    expect(child.obj.metadata?.ownerReferences).toEqual([
      { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', name, uid: relay!.metadata!.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(child.obj.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'turnrelay', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'relay',
      'app.kubernetes.io/managed-by': 'turnrelay-operator', 'turnrelay.dev/relay': name,
    });
  }
  return children;
}

test('udp-only: children, owner references, Progressing then Ready with ICE servers', async () => {
  const sample = await readSample('udp-only');
  await applyRelay(rest, ns, sample);
  await expectOwnedChildren('udp-only', [
    'ConfigMap/udp-only-config', 'Deployment/udp-only', 'NetworkPolicy/udp-only', 'PodDisruptionBudget/udp-only', 'Service/udp-only', 'ServiceAccount/udp-only',
  ]);
  const progressing = await waitForCondition(rest, ns, 'udp-only', 'Progressing', 'True');
  expect(condition(progressing, 'Ready')).toMatchObject({ status: 'False' });
  expect(progressing.status).toMatchObject({ authSecretName: 'udp-only-turn-auth', observedGeneration: progressing.metadata!.generation });

  await setLoadBalancerIngress(rest, ns, 'udp-only', '203.0.113.7');
  await markRelayPodsReady(rest, ns, 'udp-only', 1);
  const ready = await waitForCondition(rest, ns, 'udp-only', 'Ready', 'True');
  expect(condition(ready, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
  expect(ready.status).toMatchObject({ iceServers: ['turn:203.0.113.7:3478?transport=udp'], readyReplicas: 1, replicas: 1, selector: 'app.kubernetes.io/instance=udp-only,app.kubernetes.io/name=turnrelay' });
});
