// Each sample TurnRelay yields exactly the expected children (accepted by the
// real API server), each owned by the TurnRelay, and a status that moves from
// Progressing to Ready as the relay pods become ready.
import { parse } from 'yaml';
import {
  applyRelay,
  childIds,
  condition,
  getRelay,
  liveChildren,
  markRelayPodsReady,
  readSample,
  setLoadBalancerIngress,
  startTestOperator,
  waitFor,
  waitForCondition,
  kc,
  rest,
  ns,
  useNamespacePerTest,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import { CONTENT } from '../../operator/runtime/kube-rest.js';

let operator: OperatorHandle | undefined;
useNamespacePerTest('op-samples', {
  setUp: async () => {
    operator = await startTestOperator(kc, ns);
  },
  tearDown: async () => {
    await operator?.stop();
  },
});

async function expectOwnedChildren(name: string, expected: string[]) {
  const relay = await getRelay(rest, ns, name);
  const children = await waitFor(`children of ${name}`, async () => {
    const c = await liveChildren(rest, ns, name);
    return childIds(c).join() === expected.join() ? c : undefined;
  });
  for (const child of children) {
    expect(child.obj.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'turnrelay.dev/v1alpha1',
        kind: 'TurnRelay',
        name,
        uid: relay!.metadata!.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(child.obj.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'turnrelay',
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/component': 'relay',
      'app.kubernetes.io/managed-by': 'turnrelay-operator',
      'turnrelay.dev/relay': name,
    });
  }
  return children;
}

test('udp-only: children, owner references, Progressing then Ready with ICE servers', async () => {
  const sample = await readSample('udp-only');
  await applyRelay(rest, ns, sample);
  await expectOwnedChildren('udp-only', [
    'ConfigMap/udp-only-config',
    'Deployment/udp-only',
    'NetworkPolicy/udp-only',
    'PodDisruptionBudget/udp-only',
    'Service/udp-only',
    'ServiceAccount/udp-only',
  ]);
  const progressing = await waitForCondition(rest, ns, 'udp-only', 'Progressing', 'True');
  expect(condition(progressing, 'Ready')).toMatchObject({ status: 'False' });
  expect(progressing.status).toMatchObject({
    authSecretName: 'udp-only-turn-auth',
    observedGeneration: progressing.metadata!.generation,
  });

  await setLoadBalancerIngress(rest, ns, 'udp-only', '203.0.113.7');
  await markRelayPodsReady(rest, ns, 'udp-only', 1);
  const ready = await waitForCondition(rest, ns, 'udp-only', 'Ready', 'True');
  expect(condition(ready, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
  expect(ready.status).toMatchObject({
    iceServers: ['turn:203.0.113.7:3478?transport=udp'],
    readyReplicas: 1,
    replicas: 1,
    selector: 'app.kubernetes.io/instance=udp-only,app.kubernetes.io/name=turnrelay',
  });
});

test('autoscaled: a HorizontalPodAutoscaler, and the Deployment leaves replicas to it', async () => {
  await applyRelay(rest, ns, await readSample('autoscaled'));
  const children = await expectOwnedChildren('autoscaled', [
    'ConfigMap/autoscaled-config',
    'Deployment/autoscaled',
    'HorizontalPodAutoscaler/autoscaled',
    'NetworkPolicy/autoscaled',
    'PodDisruptionBudget/autoscaled',
    'Service/autoscaled',
    'ServiceAccount/autoscaled',
  ]);
  const hpa = children.find((c) => c.kind === 'HorizontalPodAutoscaler')!.obj as unknown as {
    spec: Record<string, unknown>;
  };
  expect(hpa.spec).toMatchObject({
    minReplicas: 2,
    maxReplicas: 20,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'autoscaled' },
  });
  const deployment = children.find((c) => c.kind === 'Deployment')!.obj as unknown as {
    metadata: { managedFields: Array<{ manager: string; fieldsV1: { 'f:spec'?: Record<string, unknown> } }> };
  };
  const ours = deployment.metadata.managedFields.find((m) => m.manager === 'turnrelay-operator');
  expect(ours?.fieldsV1['f:spec']?.['f:replicas']).toBeUndefined();
  await waitForCondition(rest, ns, 'autoscaled', 'Progressing', 'True');
});

test("hostnetwork-p2p: advertises the nodes' external addresses", async () => {
  // Node objects stand in for real nodes (no kubelets here); unique names, removed afterwards.
  const nodeNames = [1, 2].map((i) => `${ns}-edge-${i}`);
  const addresses = [
    [
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'ExternalIP', address: '198.51.100.11' },
    ],
    [{ type: 'InternalIP', address: '10.0.0.12' }],
  ];
  try {
    for (const [i, name] of nodeNames.entries()) {
      await rest.request('POST', '/api/v1/nodes', {
        body: { metadata: { name, labels: { 'node-role.example.com/edge': 'true' } } },
      });
      await rest.request('PATCH', `/api/v1/nodes/${name}/status`, {
        contentType: CONTENT.merge,
        body: { status: { addresses: addresses[i] } },
      });
    }
    await applyRelay(rest, ns, await readSample('hostnetwork-p2p'));
    await expectOwnedChildren('p2p', [
      'ConfigMap/p2p-config',
      'Deployment/p2p',
      'NetworkPolicy/p2p',
      'PodDisruptionBudget/p2p',
      'Service/p2p',
      'ServiceAccount/p2p',
    ]);
    const relay = await waitFor('ICE servers from node addresses', async () => {
      const r = await getRelay(rest, ns, 'p2p');
      const ice = (r?.status?.['iceServers'] as string[] | undefined) ?? [];
      return ice.includes('turn:198.51.100.11:3478?transport=udp') && ice.includes('turn:10.0.0.12:3478?transport=udp')
        ? r
        : undefined;
    });
    expect(relay.status?.['iceServers']).toHaveLength(4);
    // One ConfigMap for every node: each pod finds the address of its own node by its internal one.
    const cm = await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/p2p-config`);
    expect(
      (parse(cm.data['config.yaml']!) as { relay: { externalAddressMap?: unknown } }).relay.externalAddressMap,
    ).toEqual([
      { internal: '10.0.0.11', external: '198.51.100.11' },
      { internal: '10.0.0.12', external: '10.0.0.12' },
    ]);
    const deployment = await rest.get<{ spec: { template: { spec: { hostNetwork?: boolean } } } }>(
      `/apis/apps/v1/namespaces/${ns}/deployments/p2p`,
    );
    expect(deployment.spec.template.spec.hostNetwork).toBe(true);
  } finally {
    for (const name of nodeNames) await rest.request('DELETE', `/api/v1/nodes/${name}`).catch(() => undefined);
  }
});

test('peers-in-cluster-service: the SFU endpoints are allowed peers', async () => {
  await rest.request('POST', `/api/v1/namespaces/${ns}/services`, {
    body: { metadata: { name: 'sfu' }, spec: { ports: [{ port: 40000, protocol: 'UDP' }] } },
  });
  await rest.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    body: {
      metadata: { name: 'sfu-1', labels: { 'kubernetes.io/service-name': 'sfu' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.30.0.5'], conditions: { ready: true } },
        { addresses: ['10.30.0.6'], conditions: { ready: false } },
      ],
      ports: [{ port: 40000, protocol: 'UDP' }],
    },
  });
  await applyRelay(rest, ns, await readSample('peers-in-cluster-service'));
  await expectOwnedChildren('sfu-relay', [
    'ConfigMap/sfu-relay-config',
    'Deployment/sfu-relay',
    'NetworkPolicy/sfu-relay',
    'PodDisruptionBudget/sfu-relay',
    'Service/sfu-relay',
    'ServiceAccount/sfu-relay',
  ]);
  const config = await waitFor('allow list with the ready SFU endpoint', async () => {
    const cm = await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/sfu-relay-config`);
    const cfg = parse(cm.data['config.yaml']!) as { peers: { allowCIDRs: string[]; denyCIDRs: string[] } };
    return cfg.peers.allowCIDRs.includes('10.30.0.5/32') ? cfg : undefined;
  });
  expect(config.peers).toEqual({ allowCIDRs: ['10.20.0.0/16', '10.30.0.5/32'], denyCIDRs: ['169.254.0.0/16'] });
  const svc = await rest.get<{ spec: { type: string; clusterIP: string } }>(
    `/api/v1/namespaces/${ns}/services/sfu-relay`,
  );
  expect(svc.spec.type).toBe('ClusterIP');
  // In-cluster clients reach a ClusterIP relay on its cluster IP; the relayed
  // addresses stay the pods' own, so the config has no external override.
  const status = await waitFor('ICE servers on the cluster IP', async () => {
    const tr = await rest.get<{ status?: { iceServers?: string[]; endpoints?: string } }>(
      `/apis/turnrelay.dev/v1alpha1/namespaces/${ns}/turnrelays/sfu-relay`,
    );
    return tr.status?.iceServers?.length ? tr.status : undefined;
  });
  expect(status.iceServers).toContain(`turn:${svc.spec.clusterIP}:3478?transport=udp`);
  expect(status.endpoints).toBe(svc.spec.clusterIP);
  expect(
    (
      parse(
        (await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/sfu-relay-config`)).data[
          'config.yaml'
        ]!,
      ) as { relay: Record<string, unknown> }
    ).relay.externalAddress,
  ).toBeUndefined();
});
