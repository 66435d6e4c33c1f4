// Tests that change cluster-wide state get a control plane of their own:
// a TurnRelay CRD without a schema (so only the operator can refuse a bad
// spec), cert-manager's Certificate CRD appearing while the operator runs,
// and an API server restart the operator must ride out.
import type { KubernetesObject } from '@kubernetes/client-node';
import { cp, kc, rest, useOwnControlPlane } from './own-control-plane.js';
import { createTestNamespace } from './harness/cluster.js';
import {
  applyRelay,
  childIds,
  condition,
  getRelay,
  installTurnRelayCrd,
  liveChildren,
  readSample,
  relayObject,
  schemalessCrd,
  startTestOperator,
  waitFor,
  waitForCondition,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import { CONTENT } from '../../operator/runtime/kube-rest.js';
import { selfSigned, tlsSecretData } from '../unit/operator/support/tls.js';

const operators: OperatorHandle[] = [];
useOwnControlPlane({
  tearDown: async () => {
    for (const o of operators.splice(0)) await o.stop();
  },
});

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const UDP_ONLY = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };

async function createCrd(crd: KubernetesObject, groupVersion: string, plural: string) {
  await rest.request('POST', CRD_PATH, { body: crd });
  await waitFor(`${plural} served`, async () =>
    (await rest.find<{ resources?: Array<{ name: string }> }>(`/apis/${groupVersion}`))?.resources?.some(
      (r) => r.name === plural,
    ),
  );
}

// Runs first: it swaps the TurnRelay CRD, which the later tests need in its real form.
test('a spec only the operator can refuse gets Ready=False naming the field and an Event, and nothing else; relays beside it still converge', async () => {
  await createCrd(schemalessCrd('turnrelay.dev', 'TurnRelay', 'turnrelays'), 'turnrelay.dev/v1alpha1', 'turnrelays');
  const ns = await createTestNamespace('op-invalid', kc);
  const op = await startTestOperator(kc, ns);
  try {
    await applyRelay(
      rest,
      ns,
      relayObject('bad', { ...UDP_ONLY, listeners: [{ name: 'udp', protocol: 'UDP', port: 70000 }] }),
    );
    const r = await waitForCondition(rest, ns, 'bad', 'Ready', 'False', 'InvalidSpec');
    expect(condition(r, 'Ready')?.message).toMatch(/spec\.listeners\[0\]\.port/);
    expect(condition(r, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    const events = await waitFor('InvalidSpec event', async () => {
      const list = await rest.list<{ reason?: string; type?: string; involvedObject?: { name?: string } }>(
        `/api/v1/namespaces/${ns}/events`,
      );
      const e = list.items.filter((x) => x.involvedObject?.name === 'bad' && x.reason === 'InvalidSpec');
      return e.length ? e : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(await liveChildren(rest, ns, 'bad')).toEqual([]);
    expect(await rest.find(`/api/v1/namespaces/${ns}/secrets/bad-turn-auth`)).toBeUndefined();

    // Garbage of every type in one spec is refused the same way, and the relays beside it still converge.
    await applyRelay(
      rest,
      ns,
      relayObject('garbage', {
        realm: 12,
        listeners: 'all of them',
        replicas: -1,
        auth: [null],
        tls: 'x'.repeat(64 * 1024),
      }),
    );
    const g = await waitForCondition(rest, ns, 'garbage', 'Ready', 'False', 'InvalidSpec');
    const message = condition(g, 'Ready')?.message ?? '';
    expect(message).toMatch(/spec\.(realm|listeners|replicas|auth|tls)/);
    expect(message).not.toContain('x'.repeat(100)); // the field is named, the garbage not echoed
    await applyRelay(rest, ns, relayObject('good', UDP_ONLY));
    await waitFor('children of good', async () => (await liveChildren(rest, ns, 'good')).length >= 5);
    expect(await liveChildren(rest, ns, 'garbage')).toEqual([]);
  } finally {
    await op.stop();
  }
  await rest.request('DELETE', `${CRD_PATH}/turnrelays.turnrelay.dev`);
  await waitFor('schemaless CRD gone', async () => !(await rest.find(`${CRD_PATH}/turnrelays.turnrelay.dev`)), 60_000);
  await installTurnRelayCrd(rest);
}, 120_000);

test('TLS via cert-manager: a clear condition while cert-manager is missing, a Certificate once it appears, pruned when TLS goes', async () => {
  const ns = await createTestNamespace('op-certs', kc);
  const op = await startTestOperator(kc, ns);
  operators.push(op);
  const sample = await readSample('full-tls-cert-manager');
  await applyRelay(rest, ns, sample);
  const missing = await waitForCondition(rest, ns, 'edge', 'CertificateReady', 'False', 'CertManagerMissing');
  expect(condition(missing, 'Ready')).toMatchObject({ status: 'False', reason: 'CertManagerMissing' });
  expect(childIds(await liveChildren(rest, ns, 'edge'))).toEqual([
    'ConfigMap/edge-config',
    'Deployment/edge',
    'NetworkPolicy/edge',
    'PodDisruptionBudget/edge',
    'Service/edge',
    'ServiceAccount/edge',
  ]);

  // Only the Certificate CRD, not cert-manager itself: the test plays cert-manager's part.
  await createCrd(
    schemalessCrd('cert-manager.io', 'Certificate', 'certificates'),
    'cert-manager.io/v1',
    'certificates',
  );
  const certPath = `/apis/cert-manager.io/v1/namespaces/${ns}/certificates/edge`;
  const cert = await waitFor(
    'Certificate',
    () => rest.find<KubernetesObject & { spec?: Record<string, unknown> }>(certPath),
    30_000,
  );
  expect(cert.spec).toMatchObject({
    secretName: 'edge-tls',
    dnsNames: ['turn.example.com'],
    issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' },
  });
  expect(cert.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'TurnRelay', name: 'edge', controller: true });
  await waitForCondition(rest, ns, 'edge', 'CertificateReady', 'False', 'CertificatePending');

  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: {
      metadata: { name: 'edge-tls' },
      type: 'kubernetes.io/tls',
      data: tlsSecretData(selfSigned(['turn.example.com'])),
    },
  });
  await rest.request('PATCH', `${certPath}/status`, {
    contentType: CONTENT.merge,
    body: {
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' },
        ],
      },
    },
  });
  await waitForCondition(rest, ns, 'edge', 'CertificateReady', 'True', 'Issued');
  const withTls = await getRelay(rest, ns, 'edge');
  expect(withTls?.status?.['iceServers']).toContain('turns:turn.example.com:5349?transport=tcp');

  const { tls: _tls, ...specWithoutTls } = sample.spec;
  await applyRelay(
    rest,
    ns,
    relayObject('edge', {
      ...specWithoutTls,
      listeners: [
        { name: 'udp', protocol: 'UDP', port: 3478 },
        { name: 'tcp', protocol: 'TCP', port: 3478 },
      ],
    }),
  );
  await waitFor('Certificate pruned', async () => !(await rest.find(certPath)), 30_000);
  await waitFor(
    'CertificateReady removed',
    async () => !condition(await getRelay(rest, ns, 'edge'), 'CertificateReady'),
  );
}, 120_000);

test('the operator survives an API server restart and catches up', async () => {
  const ns = await createTestNamespace('op-restart', kc);
  const op = await startTestOperator(kc, ns);
  operators.push(op);
  await applyRelay(rest, ns, relayObject('before', UDP_ONLY));
  await waitFor('children of before', async () => (await liveChildren(rest, ns, 'before')).length === 6);

  await cp.restartApiServer();

  await applyRelay(rest, ns, relayObject('after', UDP_ONLY));
  await waitFor('children of after', async () => (await liveChildren(rest, ns, 'after')).length === 6, 60_000);
  await waitForCondition(rest, ns, 'after', 'Progressing', 'True');
  // Watches are back too: a deleted child is restored.
  await rest.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/before-config`);
  await waitFor('ConfigMap restored', () => rest.find(`/api/v1/namespaces/${ns}/configmaps/before-config`), 60_000);
}, 180_000);
