// The chart and the plain install manifest against the real kube-apiserver:
// every object helm renders is accepted by a server-side dry-run apply with
// strict field validation (for several value sets), the operator pod passes
// the enforced restricted Pod Security admission, the RBAC rules' scopes match
// the API server's discovery, the examples pass the CRD schema and CEL rules,
// and deploy/install.yaml applies twice with server-side apply without
// conflicts and without changing anything the second time.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  type V1APIResource,
  type V1Deployment,
} from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { renderChart } from '../../scripts/delivery/chart-render.js';
import { CLUSTER_SCOPED_RESOURCES, CROSS_NAMESPACE_READS, chartRbacRules } from '../../scripts/delivery/chart-rbac.js';
import { CHART_DIR, REPO_ROOT, helm, helmBinary } from '../../scripts/delivery/helm.js';
import { INSTALL_FILE, INSTALL_NAMESPACE } from '../../scripts/delivery/install-manifest.js';
import { applyYaml, kubectl } from './delivery-kubectl.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from './harness/cluster.js';
import { adminRest, installTurnRelayCrd } from './operator-fixtures.js';

const FIELD_MANAGER = 'turnrelay-install-test';
const kc = testKubeConfig();

beforeAll(() => {
  helmBinary();
}, 15 * 60_000);

const readYaml = (path: string): KubernetesObject[] =>
  parseAllDocuments(readFileSync(join(REPO_ROOT, path), 'utf8'))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null);

/** The shared TurnRelay CRD, created once for all test files (create-only, so nobody's fields are taken over). */
async function installCrd(): Promise<void> {
  await installTurnRelayCrd(await adminRest(kc));
}

describe('helm-rendered objects are accepted by the API server (server-side dry-run, strict fields)', () => {
  let namespace: string;
  beforeAll(async () => {
    namespace = await createTestNamespace('chart');
  });
  afterAll(async () => {
    if (namespace) await deleteTestNamespace(namespace);
  });

  test('helm lint passes', () => {
    expect(helm(['lint', CHART_DIR])).toMatch(/0 chart\(s\) failed/);
  });

  test.each([
    ['defaults', () => ({})],
    [
      'watchNamespace, metrics Service, no leader election',
      () => ({ watchNamespace: namespace, 'metrics.service.enabled': true, 'leaderElection.enabled': false }),
    ],
    [
      'pinned digest, no PDB, one replica',
      () => ({ 'image.digest': `sha256:${'b'.repeat(64)}`, 'podDisruptionBudget.enabled': false, replicaCount: 1 }),
    ],
  ] as Array<[string, () => Record<string, string | number | boolean>]>)('%s', async (_, values) => {
    const { objects, text } = renderChart({ namespace, set: values(), includeCrds: true });
    expect(objects.length).toBeGreaterThan(5);
    // Conflicts are forced: the CRD is shared with other test files; ownership is tested below.
    const out = await applyYaml(text, { fieldManager: FIELD_MANAGER, dryRun: true, forceConflicts: true });
    expect(out.trim().split('\n')).toHaveLength(objects.length);
  });
});

test('the operator pod passes the enforced restricted Pod Security Standard', async () => {
  const namespace = await createTestNamespace('chart-psa');
  try {
    await kubectl(['label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted']);
    const { objects } = renderChart({ namespace });
    await applyYaml(stringify(objects.find((o) => o.kind === 'ServiceAccount')), { fieldManager: FIELD_MANAGER });
    const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'operator-psa-check', namespace },
      spec: deployment.spec!.template.spec!,
    };
    await applyYaml(stringify(pod), { fieldManager: FIELD_MANAGER, dryRun: true });
    // The same admission refuses a pod that breaks the profile, so the check has teeth.
    const escalating = structuredClone(pod);
    escalating.spec.containers[0]!.securityContext = {
      ...escalating.spec.containers[0]!.securityContext,
      allowPrivilegeEscalation: true,
    };
    await expect(applyYaml(stringify(escalating), { fieldManager: FIELD_MANAGER, dryRun: true })).rejects.toThrow(
      /violates PodSecurity "restricted/,
    );
  } finally {
    await deleteTestNamespace(namespace);
  }
});

test('every RBAC rule resource has the scope the chart assumes (checked against discovery)', async () => {
  await installCrd();
  const served = new Map<string, V1APIResource>();
  for (const resource of (await kc.makeApiClient(CoreV1Api).getAPIResources()).resources)
    served.set(`/${resource.name}`, resource);
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const group of (await kc.makeApiClient(ApisApi).getAPIVersions()).groups) {
    const version = group.preferredVersion?.version ?? group.versions[0]!.version;
    for (const resource of (await custom.getAPIResources({ group: group.name, version })).resources)
      served.set(`${group.name}/${resource.name}`, resource);
  }
  const rules = chartRbacRules();
  const checked: string[] = [];
  const scopes = [
    ['clusterWide', rules.clusterWide],
    ['namespaced', [...rules.namespaced, ...rules.leaderElection]],
  ] as const;
  for (const [grant, list] of scopes) {
    for (const rule of list) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const key = `${group}/${resource}`;
          const found = served.get(key);
          if (!found) continue; // cert-manager.io is not installed in the test cluster
          checked.push(key);
          const base = `${group}/${resource.split('/')[0]}`;
          // What the chart believes about the resource's scope is what the API server says.
          expect({ key, clusterScoped: CLUSTER_SCOPED_RESOURCES.has(base) }).toEqual({
            key,
            clusterScoped: !found.namespaced,
          });
          // Only cluster-scoped resources and the deliberate cross-namespace reads are granted cluster-wide.
          expect({ key, clusterWide: !found.namespaced || CROSS_NAMESPACE_READS.has(base) }).toEqual({
            key,
            clusterWide: grant === 'clusterWide',
          });
        }
      }
    }
  }
  expect(checked).toEqual(
    expect.arrayContaining([
      'turnrelay.dev/turnrelays',
      '/secrets',
      '/nodes',
      'apps/deployments',
      'coordination.k8s.io/leases',
    ]),
  );
});

test('every example TurnRelay passes the CRD schema and its CEL rules (dry-run)', async () => {
  await installCrd();
  const namespace = await createTestNamespace('examples');
  try {
    const files = readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml'));
    const relays = files.flatMap((f) => readYaml(`examples/${f}`)).filter((o) => o.kind === 'TurnRelay');
    expect(relays).toHaveLength(files.length);
    for (const relay of relays) {
      await applyYaml(stringify({ ...relay, metadata: { ...relay.metadata, namespace } }), {
        fieldManager: FIELD_MANAGER,
        dryRun: true,
      });
    }
    // The same path refuses what the CEL rules forbid.
    const invalid = {
      apiVersion: 'turnrelay.dev/v1alpha1',
      kind: 'TurnRelay',
      metadata: { name: 'bad', namespace },
      spec: { listeners: [{ protocol: 'TLS' }] },
    };
    await expect(applyYaml(stringify(invalid), { fieldManager: FIELD_MANAGER, dryRun: true })).rejects.toThrow(
      /TLS listener needs spec.tls/,
    );
  } finally {
    await deleteTestNamespace(namespace);
  }
});

describe('deploy/install.yaml with server-side apply', () => {
  const objects = readYaml(INSTALL_FILE);
  const manifest = readFileSync(join(REPO_ROOT, INSTALL_FILE), 'utf8');

  afterAll(async () => {
    // The CRD stays (other test files share it); everything else goes.
    const clusterScoped = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
    for (const o of clusterScoped)
      await kubectl(['delete', o.kind!.toLowerCase(), o.metadata!.name!, '--ignore-not-found', '--wait=false']);
    await deleteTestNamespace(INSTALL_NAMESPACE);
  });

  type Observed = { key: string; resourceVersion: string; generation?: number; ours?: string };
  async function observe(): Promise<Observed[]> {
    const list = JSON.parse(await kubectl(['get', '-f', '-', '-o', 'json', '--show-managed-fields'], manifest)) as {
      items: Array<KubernetesObject & { metadata: { generation?: number } }>;
    };
    return list.items.map((o) => ({
      key: `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      resourceVersion: o.metadata.resourceVersion!,
      ...(o.metadata.generation !== undefined ? { generation: o.metadata.generation } : {}),
      ours: JSON.stringify(
        o.metadata.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply') ?? null,
      ),
    }));
  }

  test('applies, then re-applies with no conflicts and no changes', async () => {
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['CustomResourceDefinition', 'Namespace', 'Deployment', 'ClusterRole', 'ServiceAccount']),
    );
    // First apply: forced only because other test files in this cluster apply the shared CRD under their own managers.
    await applyYaml(manifest, { fieldManager: FIELD_MANAGER, forceConflicts: true });

    // Let controllers finish their own writes (CRD conditions, Deployment
    // status, ServiceAccount tokens) so only our second apply could change anything.
    let before = await observe();
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await observe();
      if (JSON.stringify(now) === JSON.stringify(before)) break;
      before = now;
    }
    // Second apply: no --force-conflicts, so a conflict fails the test.
    await applyYaml(manifest, { fieldManager: FIELD_MANAGER });
    const after = await observe();
    // The CRD is shared with other test files, whose own applies may bump its resourceVersion; our entry and its generation must not move.
    const comparable = (list: Observed[]) =>
      list.map((o) => (o.key.startsWith('CustomResourceDefinition') ? { ...o, resourceVersion: '(shared)' } : o));
    expect(before.filter((o) => o.ours === 'null').map((o) => o.key)).toEqual([]);
    expect(comparable(after)).toEqual(comparable(before));
    expect(after).toHaveLength(objects.length);
  }, 120_000);
});
