// Edits converge, unwanted children are pruned, hand edits and other field
// managers are overridden, invalid specs change nothing, and deleting the
// TurnRelay garbage-collects its children.
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  applyRelay,
  relayObject,
  childIds,
  condition,
  getRelay,
  liveChildren,
  startTestOperator,
  waitFor,
  waitForCondition,
  kc,
  rest,
  ns,
  useNamespacePerTest,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import { CONTENT, KubeApiError } from '../../operator/runtime/kube-rest.js';
import { selfSigned, tlsSecretData } from '../unit/operator/support/tls.js';

let operator: OperatorHandle | undefined;
useNamespacePerTest('op-converge', {
  setUp: async () => {
    operator = await startTestOperator(kc, ns);
  },
  tearDown: async () => {
    await operator?.stop();
  },
});

type Spec = Record<string, unknown>;
const relay = relayObject;
const UDP_ONLY: Spec = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };

type Obj = KubernetesObject & { spec?: Record<string, unknown>; data?: Record<string, string> };
const get = (path: string) => rest.find<Obj>(path);
const svcPath = (name: string) => `/api/v1/namespaces/${ns}/services/${name}`;
const cmPath = (name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}-config`;
const servicePorts = async (name: string) =>
  ((await get(svcPath(name)))?.spec?.['ports'] as Array<{ name: string; port: number; protocol: string }> | undefined)
    ?.map((p) => `${p.name}:${p.protocol}/${p.port}`)
    .sort()
    .join(',');
const relayConfig = async (name: string) =>
  parse((await get(cmPath(name)))?.data?.['config.yaml'] ?? '{}') as {
    peers?: { allowCIDRs?: string[] };
    listeners?: unknown[];
  };

test('changing listeners updates the Service and the relay config', async () => {
  await applyRelay(rest, ns, relay('conv', UDP_ONLY));
  await waitFor('udp port', async () => (await servicePorts('conv')) === 'udp:UDP/3478');
  await applyRelay(
    rest,
    ns,
    relay('conv', {
      ...UDP_ONLY,
      listeners: [
        { name: 'udp', protocol: 'UDP', port: 3478 },
        { name: 'tcp', protocol: 'TCP', port: 3479 },
      ],
    }),
  );
  await waitFor('udp+tcp ports', async () => (await servicePorts('conv')) === 'tcp:TCP/3479,udp:UDP/3478');
  await waitFor('two listeners in the relay config', async () => (await relayConfig('conv')).listeners?.length === 2);
});

test('TLS on and off with an existing Secret; CertificateReady follows the Secret', async () => {
  const tlsSpec = {
    ...UDP_ONLY,
    listeners: [
      { name: 'udp', protocol: 'UDP', port: 3478 },
      { name: 'tls', protocol: 'TLS', port: 5349 },
    ],
    tls: { secretName: 'byo-tls' },
  };
  await applyRelay(rest, ns, relay('tls', tlsSpec));
  const missing = await waitForCondition(rest, ns, 'tls', 'CertificateReady', 'False', 'SecretMissing');
  expect(condition(missing, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretMissing' });
  await waitFor('TLS port on the Service', async () => (await servicePorts('tls')) === 'tls:TCP/5349,udp:UDP/3478');
  // A real key pair: the operator checks the certificate parses and matches its key.
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: {
      metadata: { name: 'byo-tls' },
      type: 'kubernetes.io/tls',
      data: tlsSecretData(selfSigned(['turn.example.com'])),
    },
  });
  await waitForCondition(rest, ns, 'tls', 'CertificateReady', 'True', 'SecretFound');

  await applyRelay(rest, ns, relay('tls', UDP_ONLY));
  await waitFor('TLS port removed', async () => (await servicePorts('tls')) === 'udp:UDP/3478');
  await waitFor(
    'CertificateReady removed',
    async () => !condition(await getRelay(rest, ns, 'tls'), 'CertificateReady'),
  );
});

test('autoscaling on adds a HorizontalPodAutoscaler; off prunes it', async () => {
  await applyRelay(rest, ns, relay('scaled', UDP_ONLY));
  await waitFor('Deployment', () => get(`/apis/apps/v1/namespaces/${ns}/deployments/scaled`));
  await applyRelay(
    rest,
    ns,
    relay('scaled', {
      ...UDP_ONLY,
      autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilization: 60 },
      resources: { requests: { cpu: '100m' } },
    }),
  );
  const hpa = await waitFor('HPA', () => get(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/scaled`));
  expect(hpa.spec).toMatchObject({
    minReplicas: 2,
    maxReplicas: 5,
    scaleTargetRef: { kind: 'Deployment', name: 'scaled' },
  });
  await applyRelay(rest, ns, relay('scaled', UDP_ONLY));
  await waitFor(
    'HPA pruned',
    async () => !(await get(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/scaled`)),
  );
  expect(childIds(await liveChildren(rest, ns, 'scaled'))).not.toContain('HorizontalPodAutoscaler/scaled');
});

test('allowed Services: their endpoint addresses follow EndpointSlice changes', async () => {
  await rest.request('POST', `/api/v1/namespaces/${ns}/services`, {
    body: { metadata: { name: 'sfu' }, spec: { ports: [{ port: 40000, protocol: 'UDP' }] } },
  });
  const slice = (ips: string[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'sfu-abc', labels: { 'kubernetes.io/service-name': 'sfu' } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ port: 40000, protocol: 'UDP' }],
  });
  const slicePath = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/sfu-abc`;
  await rest.request('PATCH', slicePath, {
    body: slice(['10.1.2.3']),
    contentType: CONTENT.apply,
    query: { fieldManager: 'endpointslice-test', force: true },
  });
  await applyRelay(
    rest,
    ns,
    relay('peers', { ...UDP_ONLY, peers: { allowServices: [{ name: 'sfu' }], allowCIDRs: ['10.20.0.0/16'] } }),
  );
  await waitFor('endpoint allowed', async () =>
    (await relayConfig('peers')).peers?.allowCIDRs?.includes('10.1.2.3/32'),
  );

  await rest.request('PATCH', slicePath, {
    body: slice(['10.1.2.4', '10.1.2.5']),
    contentType: CONTENT.apply,
    query: { fieldManager: 'endpointslice-test', force: true },
  });
  await waitFor('endpoint change followed', async () => {
    const allow = (await relayConfig('peers')).peers?.allowCIDRs ?? [];
    return (
      allow.includes('10.1.2.4/32') &&
      allow.includes('10.1.2.5/32') &&
      !allow.includes('10.1.2.3/32') &&
      allow.includes('10.20.0.0/16')
    );
  });

  await applyRelay(rest, ns, relay('peers', { ...UDP_ONLY, peers: { allowCIDRs: ['10.20.0.0/16'] } }));
  await waitFor(
    'service no longer allowed',
    async () => (await relayConfig('peers')).peers?.allowCIDRs?.join() === '10.20.0.0/16',
  );
});

test('a deleted child is recreated, hand edits and a conflicting field manager are taken back', async () => {
  await applyRelay(rest, ns, relay('heal', UDP_ONLY));
  const cm = await waitFor('ConfigMap', () => get(cmPath('heal')));
  const svc = await waitFor('Service', () => get(svcPath('heal')));
  expect(svc.spec?.['externalTrafficPolicy']).toBe('Local');

  await rest.request('DELETE', cmPath('heal'));
  const recreated = await waitFor('ConfigMap recreated', async () => {
    const c = await get(cmPath('heal'));
    return c && c.metadata?.uid !== cm.metadata?.uid ? c : undefined;
  });
  expect(recreated.data).toEqual(cm.data);

  // A hand edit (kubectl edit / merge patch) moves field ownership away from the operator.
  await rest.request('PATCH', svcPath('heal'), {
    body: { spec: { externalTrafficPolicy: 'Cluster' } },
    contentType: CONTENT.merge,
  });
  await waitFor(
    'Service restored',
    async () => (await get(svcPath('heal')))?.spec?.['externalTrafficPolicy'] === 'Local',
  );

  // Another applier forcing a conflicting value.
  await rest.request('PATCH', cmPath('heal'), {
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'heal-config' },
      data: { 'config.yaml': 'realm: hijacked\n' },
    },
    contentType: CONTENT.apply,
    query: { fieldManager: 'intruder', force: true },
  });
  await waitFor(
    'ConfigMap taken back',
    async () => (await get(cmPath('heal')))?.data?.['config.yaml'] === cm.data?.['config.yaml'],
  );
  const events = await rest.list<{ reason?: string; involvedObject?: { name?: string } }>(
    `/api/v1/namespaces/${ns}/events`,
  );
  expect(events.items.filter((e) => e.involvedObject?.name === 'heal').map((e) => e.reason)).toContain(
    'DriftCorrected',
  );
});

test('invalid specs are refused by the API server and leave the children untouched', async () => {
  // Operator-only checks (Ready=False naming the field) are exercised in
  // operator-dedicated.test.ts, whose cluster has a CRD without a schema.
  const longName = `relay-${'x'.repeat(60)}`;
  const tooLong = await applyRelay(rest, ns, relay(longName, UDP_ONLY)).catch((e: unknown) => e);
  expect(tooLong).toBeInstanceOf(KubeApiError);
  expect((tooLong as KubeApiError).message).toMatch(/metadata\.name/);

  await applyRelay(rest, ns, relay('valid', UDP_ONLY));
  await waitForCondition(rest, ns, 'valid', 'Progressing', 'True');
  const before = (await liveChildren(rest, ns, 'valid')).map(
    (c) => `${c.kind}/${c.name}@${c.obj.metadata?.resourceVersion}`,
  );
  const refused = await applyRelay(
    rest,
    ns,
    relay('valid', {
      ...UDP_ONLY,
      replicas: 2,
      autoscaling: { minReplicas: 1, maxReplicas: 3, targetCPUUtilization: 50 },
      resources: { requests: { cpu: '100m' } },
    }),
  ).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(KubeApiError);
  expect((refused as KubeApiError).code).toBe(422);
  expect((refused as KubeApiError).message).toMatch(/replicas and autoscaling are mutually exclusive/);
  await new Promise((r) => setTimeout(r, 2_000)); // a couple of resyncs
  expect(
    (await liveChildren(rest, ns, 'valid')).map((c) => `${c.kind}/${c.name}@${c.obj.metadata?.resourceVersion}`),
  ).toEqual(before);
});

test('deleting the TurnRelay garbage-collects its children', async () => {
  await applyRelay(rest, ns, relay('gc', UDP_ONLY));
  await waitFor('children', async () => (await liveChildren(rest, ns, 'gc')).length >= 5);
  await rest.request('DELETE', `/apis/turnrelay.dev/v1alpha1/namespaces/${ns}/turnrelays/gc`);
  // kube-controller-manager's garbage collector rediscovers new CRDs every 30 s.
  await waitFor('children collected', async () => (await liveChildren(rest, ns, 'gc')).length === 0, 120_000, 1_000);
  await waitFor(
    'auth Secret collected',
    async () => !(await rest.find(`/api/v1/namespaces/${ns}/secrets/gc-turn-auth`)),
    60_000,
    1_000,
  );
}, 200_000);
