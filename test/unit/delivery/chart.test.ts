// The Helm chart as rendered by real helm (built from its Go module): lint,
// what the defaults deploy (two leader-electing replicas on the restricted
// pod security profile, probes, PDB, the same-version relay image), RBAC
// equal to the operator's own rules, the watchNamespace variant, optional
// metrics objects, values schema enforcement, and a deterministic output.
import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import type {
  KubernetesObject,
  V1ClusterRole,
  V1Deployment,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RELAY_IMAGE } from '../../../operator/main.js';
import { renderChart } from '../../../scripts/delivery/chart-render.js';
import { chartRbacRules } from '../../../scripts/delivery/chart-rbac.js';
import { CHART_DIR, REPO_ROOT, helm, helmBinary } from '../../../scripts/delivery/helm.js';

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(() => {
  helmBinary();
}, 15 * 60_000);

function find(objects: KubernetesObject[], kind: string, name?: string): KubernetesObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

function only(objects: KubernetesObject[], kind: string, name?: string): KubernetesObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

test('helm lint --strict passes', () => {
  expect(helm(['lint', '--strict', CHART_DIR])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
});

describe('default values', () => {
  const { objects } = renderChart();
  const deployment = only(objects, 'Deployment') as V1Deployment;
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers[0]!;

  test('two replicas with leader election, running the operator command', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(container.args).toEqual(expect.arrayContaining(['operator', '--leader-elect', '--metrics-port', '8080']));
    expect(container.args).not.toContain('--namespace');
  });

  test('operator and relay images default to the package version', () => {
    expect(container.image).toBe(`ghcr.io/turnrelay/turnrelay-operator:${version}`);
    const relayImage = container.args![container.args!.indexOf('--relay-image') + 1];
    expect(relayImage).toBe(`ghcr.io/turnrelay/turnrelay:${version}`);
    // The operator run without the chart defaults to the same image.
    expect(DEFAULT_RELAY_IMAGE).toBe(relayImage);
  });

  test('restricted pod security: non-root 10001, no escalation, no capabilities, RuntimeDefault seccomp, read-only root', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.hostNetwork ?? false).toBe(false);
    for (const volume of pod.volumes ?? []) expect(Object.keys(volume).sort()).toEqual(['emptyDir', 'name']);
  });

  test('probes on /healthz and /readyz at the metrics port, and resources', () => {
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'credentials', containerPort: 8443, protocol: 'TCP' },
    ]);
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toMatchObject({ memory: expect.any(String) });
  });

  test('a PodDisruptionBudget keeps one replica up and selects exactly the operator pods', () => {
    const pdb = only(objects, 'PodDisruptionBudget') as KubernetesObject & {
      spec: { minAvailable: number; selector: unknown };
    };
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector).toEqual(deployment.spec!.selector);
  });

  test('no ServiceMonitor or metrics Service unless asked for', () => {
    expect(find(objects, 'ServiceMonitor')).toEqual([]);
    expect(find(objects, 'Service').map((s) => s.metadata!.name)).toEqual(['turnrelay-operator-credentials']);
  });

  test('the credentials API: its Service, the operator flags naming it, review RBAC, a public CA reader, an aggregated requester role', () => {
    const rules = chartRbacRules();
    const service = only(objects, 'Service', 'turnrelay-operator-credentials') as KubernetesObject & {
      spec: { ports: unknown[]; selector: unknown };
    };
    expect(service.spec.ports).toEqual([{ name: 'https', port: 8443, targetPort: 'credentials', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(container.args).toEqual(
      expect.arrayContaining(['--credentials-port', '8443', '--credentials-service', 'turnrelay-operator-credentials']),
    );
    expect(container.args).not.toContain('--credentials-tls-cert');
    expect((only(objects, 'ClusterRole', 'turnrelay-operator-credentials-review') as V1ClusterRole).rules).toEqual(
      rules.credentialsApi.clusterWide,
    );
    expect((only(objects, 'Role', 'turnrelay-operator-credentials-tls') as V1Role).rules).toEqual(
      rules.credentialsApi.ownNamespace,
    );
    const reader = only(objects, 'Role', 'turnrelay-operator-credentials-ca-reader') as V1Role;
    expect(reader.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['turnrelay-operator-credentials-ca'],
        verbs: ['get'],
      },
    ]);
    expect(
      (only(objects, 'RoleBinding', 'turnrelay-operator-credentials-ca-reader') as V1RoleBinding).subjects,
    ).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }]);
    const requester = only(objects, 'ClusterRole', 'turnrelay-operator-credentials-requester') as V1ClusterRole;
    expect(requester.rules).toEqual(rules.credentialsApi.requester);
    expect(requester.metadata!.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
    });
  });

  test('RBAC equals the operator rules, bound to the chart ServiceAccount', () => {
    const rules = chartRbacRules();
    const sa = only(objects, 'ServiceAccount');
    expect(pod.serviceAccountName).toBe(sa.metadata!.name);
    expect((only(objects, 'ClusterRole', 'turnrelay-operator') as V1ClusterRole).rules).toEqual(rules.namespaced);
    expect((only(objects, 'ClusterRole', 'turnrelay-operator-cluster') as V1ClusterRole).rules).toEqual(
      rules.clusterWide,
    );
    const lease = only(objects, 'Role', 'turnrelay-operator-leader-election') as V1Role;
    expect(lease.metadata!.namespace).toBe('turnrelay-system');
    expect(lease.rules).toEqual(rules.leaderElection);
    for (const binding of [
      ...(find(objects, 'ClusterRoleBinding') as V1RoleBinding[]),
      ...(find(objects, 'RoleBinding') as V1RoleBinding[]),
    ]) {
      if (binding.metadata!.name === 'turnrelay-operator-credentials-ca-reader') continue; // the public CA, above
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata!.name, namespace: 'turnrelay-system' },
      ]);
    }
  });

  test('RBAC is least privilege: no wildcards, no RBAC escalation, Secrets never deleted', () => {
    const all: V1PolicyRule[] = [
      ...(find(objects, 'ClusterRole') as V1ClusterRole[]),
      ...(find(objects, 'Role') as V1Role[]),
    ].flatMap((r) => r.rules ?? []);
    expect(all.length).toBeGreaterThan(0);
    for (const rule of all) {
      expect([...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])]).not.toContain('*');
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['escalate']));
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['bind']));
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['impersonate']));
      expect(rule.apiGroups).not.toContain('rbac.authorization.k8s.io');
      if (rule.resources?.includes('secrets')) expect(rule.verbs).not.toContain('delete');
    }
  });
});

test('watchNamespace grants namespaced permissions only in that namespace', () => {
  const { objects } = renderChart({ set: { watchNamespace: 'media' } });
  const container = (only(objects, 'Deployment') as V1Deployment).spec!.template.spec!.containers[0]!;
  expect(container.args).toEqual(expect.arrayContaining(['--namespace', 'media']));
  const binding = only(objects, 'RoleBinding', 'turnrelay-operator') as V1RoleBinding;
  expect(binding.metadata!.namespace).toBe('media');
  expect(binding.roleRef).toEqual({
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    name: 'turnrelay-operator',
  });
  expect(find(objects, 'ClusterRoleBinding', 'turnrelay-operator')).toEqual([]);
});

test('the ServiceMonitor scrapes the metrics Service it implies', () => {
  const { objects } = renderChart({ set: { 'metrics.serviceMonitor.enabled': true } });
  const service = only(objects, 'Service', 'turnrelay-operator-metrics') as KubernetesObject & {
    spec: { ports: Array<{ name: string }>; selector: Record<string, string> };
  };
  const monitor = only(objects, 'ServiceMonitor') as KubernetesObject & {
    spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
  };
  expect(service.spec.ports.map((p) => p.name)).toEqual(['metrics']);
  expect(service.metadata!.labels).toMatchObject(monitor.spec.selector.matchLabels);
  expect(monitor.spec.endpoints[0]!.port).toBe('metrics');
});

test('credentials API with a mounted TLS Secret, or disabled', () => {
  const mounted = renderChart({ set: { 'credentialsApi.tls.secretName': 'credentials-cert' } }).objects;
  const pod = (only(mounted, 'Deployment') as V1Deployment).spec!.template.spec!;
  expect(pod.containers[0]!.args).toEqual(
    expect.arrayContaining([
      '--credentials-tls-cert',
      '/etc/turnrelay/credentials-tls/tls.crt',
      '--credentials-tls-key',
      '/etc/turnrelay/credentials-tls/tls.key',
    ]),
  );
  expect(pod.volumes).toEqual(
    expect.arrayContaining([{ name: 'credentials-tls', secret: { secretName: 'credentials-cert' } }]),
  );
  expect(find(mounted, 'Role', 'turnrelay-operator-credentials-tls')).toEqual([]);

  const off = renderChart({ set: { 'credentialsApi.enabled': false } }).objects;
  expect((only(off, 'Deployment') as V1Deployment).spec!.template.spec!.containers[0]!.args).toContain(
    '--disable-credentials-api',
  );
  expect(find(off, 'Service')).toEqual([]);
  expect(find(off, 'ClusterRole', 'turnrelay-operator-credentials-review')).toEqual([]);
});

test('a pinned digest wins over the tag', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const { objects } = renderChart({ set: { 'image.digest': digest, 'relayImage.digest': digest } });
  const container = (only(objects, 'Deployment') as V1Deployment).spec!.template.spec!.containers[0]!;
  expect(container.image).toBe(`ghcr.io/turnrelay/turnrelay-operator@${digest}`);
  expect(container.args).toContain(`ghcr.io/turnrelay/turnrelay@${digest}`);
});

test.each([
  ['replicaCount', 'two'],
  ['watchNamespace', 'Not_A_Namespace'],
  ['noSuchValue', 'x'],
  ['image.digest', 'latest'],
])('values.schema.json rejects %s=%s', (key, value) => {
  expect(() => renderChart({ set: { [key]: value } })).toThrow(/values don't meet the specifications|schema|want/i);
});

test('renders are deterministic (no random names or timestamps)', () => {
  const first = renderChart({ includeCrds: true }).text;
  expect(renderChart({ includeCrds: true }).text).toBe(first);
  expect(first).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  const templates = [
    'deployment.yaml',
    'rbac.yaml',
    'credentials-api.yaml',
    '_helpers.tpl',
    'pdb.yaml',
    'serviceaccount.yaml',
    'namespace.yaml',
  ]
    .map((f) => readFileSync(join(REPO_ROOT, CHART_DIR, 'templates', f), 'utf8'))
    .join('\n');
  expect(templates).not.toMatch(/rand(Alpha|Num|AlphaNum|Ascii)|uuidv4|\bnow\b|genCA|genSelfSigned/);
});
