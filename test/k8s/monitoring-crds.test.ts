// Monitoring out of the box, against a control plane of its own (CRDs are
// cluster-wide): without the Prometheus Operator nothing changes and nothing
// fails; once its real CRDs (from the prometheus-operator module, see
// test/tools/prometheus-operator-crds) are installed, the operator creates a
// PodMonitor and a PrometheusRule that the API server validates against those
// schemas, through the same apply/prune/ownership path as every child, and
// prunes them when spec.monitoring.enabled turns false.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { kc, rest, useOwnControlPlane } from './own-control-plane.js';
import { createTestNamespace } from './harness/cluster.js';
import {
  ROOT,
  applyRelay,
  childIds,
  installTurnRelayCrd,
  liveChildren,
  relayObject,
  startTestOperator,
  waitFor,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import { PODMONITOR_KIND, PROMETHEUSRULE_KIND, objectPath } from '../../operator/runtime/resources.js';

let ns: string;
let op: OperatorHandle | undefined;

const UDP_ONLY = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };
const BASE_CHILDREN = [
  'ConfigMap/edge-config',
  'Deployment/edge',
  'NetworkPolicy/edge',
  'PodDisruptionBudget/edge',
  'Service/edge',
  'ServiceAccount/edge',
];

useOwnControlPlane({
  setUp: async () => {
    await installTurnRelayCrd(rest);
    ns = await createTestNamespace('monitoring', kc);
    op = await startTestOperator(kc, ns);
  },
  tearDown: async () => {
    await op?.stop();
  },
});

async function installPrometheusOperatorCrds(): Promise<void> {
  const dir = execFileSync('bash', [join(ROOT, 'test/tools/prometheus-operator-crds/fetch.sh')], {
    encoding: 'utf8',
  }).trim();
  for (const file of await readdir(dir)) {
    const crd = parse(await readFile(join(dir, file), 'utf8')) as KubernetesObject;
    await rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
  }
  await waitFor('monitoring.coreos.com/v1 served', async () => {
    const names =
      (await rest.find<{ resources?: Array<{ name: string }> }>('/apis/monitoring.coreos.com/v1'))?.resources?.map(
        (r) => r.name,
      ) ?? [];
    return ['podmonitors', 'prometheusrules', 'servicemonitors'].every((n) => names.includes(n));
  });
}

type Monitor = KubernetesObject & { spec: Record<string, unknown> };

test('without the Prometheus Operator CRDs: the usual children, no errors; with them: a valid PodMonitor and PrometheusRule; disabled: pruned', async () => {
  await applyRelay(
    rest,
    ns,
    relayObject('edge', { ...UDP_ONLY, monitoring: { labels: { release: 'kube-prometheus-stack' } } }),
  );
  await waitFor('children', async () => childIds(await liveChildren(rest, ns, 'edge')).length === BASE_CHILDREN.length);
  expect(childIds(await liveChildren(rest, ns, 'edge'))).toEqual(BASE_CHILDREN);
  const metrics = await op!.metrics.registry.getSingleMetricAsString('turnrelay_operator_reconcile_errors_total');
  expect(metrics).toMatch(/turnrelay_operator_reconcile_errors_total 0$/m);

  await installPrometheusOperatorCrds();
  const podMonitor = await waitFor(
    'PodMonitor',
    () => rest.find<Monitor>(objectPath(PODMONITOR_KIND, ns, 'edge')),
    60_000,
  );
  const rule = await waitFor(
    'PrometheusRule',
    () => rest.find<Monitor>(objectPath(PROMETHEUSRULE_KIND, ns, 'edge')),
    60_000,
  );
  for (const m of [podMonitor, rule]) {
    expect(m.metadata?.labels).toMatchObject({ release: 'kube-prometheus-stack', 'turnrelay.dev/relay': 'edge' });
    expect(m.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'TurnRelay', name: 'edge', controller: true });
  }
  // The API server kept every field (the real CRD schemas prune unknown ones).
  expect(podMonitor.spec).toMatchObject({
    selector: { matchLabels: { 'app.kubernetes.io/name': 'turnrelay', 'app.kubernetes.io/instance': 'edge' } },
    podMetricsEndpoints: [{ port: 'admin', path: '/metrics', relabelings: [{ targetLabel: 'turnrelay' }] }],
  });
  const alerts = (rule.spec.groups as Array<{ rules: Array<{ alert: string; expr: string }> }>).flatMap((g) => g.rules);
  expect(alerts.map((a) => a.alert)).toEqual([
    'TurnRelayPodDown',
    'TurnRelayAllocationsNearLimit',
    'TurnRelayAuthFailures',
    'TurnRelayPeerRefusals',
    'TurnRelayPacketDrops',
    'TurnRelayCertificateExpiresSoon',
  ]);
  for (const a of alerts) expect(a.expr).toContain(`namespace="${ns}", turnrelay="edge"`);
  expect(childIds(await liveChildren(rest, ns, 'edge'))).toEqual(
    [...BASE_CHILDREN, 'PodMonitor/edge', 'PrometheusRule/edge'].sort(),
  );

  await applyRelay(rest, ns, relayObject('edge', { ...UDP_ONLY, monitoring: { enabled: false } }));
  await waitFor(
    'monitors pruned',
    async () =>
      !(await rest.find(objectPath(PODMONITOR_KIND, ns, 'edge'))) &&
      !(await rest.find(objectPath(PROMETHEUSRULE_KIND, ns, 'edge'))),
  );
  expect(childIds(await liveChildren(rest, ns, 'edge'))).toEqual(BASE_CHILDREN);
}, 180_000);
