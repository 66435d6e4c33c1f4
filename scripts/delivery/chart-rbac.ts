// The chart's RBAC rules file (charts/turnrelay-operator/files/operator-rbac.yaml),
// rendered from the operator's own list of permissions so the chart grants
// exactly what the operator uses. templates/rbac.yaml binds the three groups:
// namespaced rules cluster-wide (or in watchNamespace only), cluster-scoped
// rules cluster-wide, leader-election rules in the operator's namespace.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { OPERATOR_CLUSTER_RULES, OPERATOR_NAMESPACE_RULES } from '../../operator/rbac.js';

export const CHART_RBAC_FILE = 'charts/turnrelay-operator/files/operator-rbac.yaml';

/**
 * Cluster-scoped resources ("group/resource") a rule may name. A RoleBinding
 * cannot grant these, so they get their own ClusterRole. test/k8s/chart.test.ts
 * checks every resource in the rules against the API server's discovery.
 */
export const CLUSTER_SCOPED_RESOURCES = new Set([
  '/nodes',
  '/namespaces',
  '/persistentvolumes',
  'apiextensions.k8s.io/customresourcedefinitions',
  'storage.k8s.io/storageclasses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
]);

export type ChartRbacRules = { namespaced: V1PolicyRule[]; clusterScoped: V1PolicyRule[]; leaderElection: V1PolicyRule[] };

const isClusterScoped = (group: string, resource: string): boolean =>
  CLUSTER_SCOPED_RESOURCES.has(`${group}/${resource.split('/')[0]}`);

/** Splits rules by the scope of their resources (a mixed rule is split in two). */
export function splitByScope(rules: readonly V1PolicyRule[]): Pick<ChartRbacRules, 'namespaced' | 'clusterScoped'> {
  const namespaced: V1PolicyRule[] = [];
  const clusterScoped: V1PolicyRule[] = [];
  for (const rule of rules) {
    const groups = rule.apiGroups ?? [''];
    const resources = rule.resources ?? [];
    if (rule.nonResourceURLs?.length) {
      clusterScoped.push(rule);
      continue;
    }
    const scoped = (wantCluster: boolean) =>
      resources.filter((r) => groups.some((g) => isClusterScoped(g, r)) === wantCluster);
    const cluster = scoped(true);
    const local = scoped(false);
    if (local.length > 0) namespaced.push({ ...rule, resources: local });
    if (cluster.length > 0) clusterScoped.push({ ...rule, resources: cluster });
  }
  return { namespaced, clusterScoped };
}

export function chartRbacRules(): ChartRbacRules {
  return { ...splitByScope(OPERATOR_CLUSTER_RULES), leaderElection: [...OPERATOR_NAMESPACE_RULES] };
}

export function chartRbacYaml(): string {
  const header =
    '# Generated from operator/rbac.ts by `npm run generate:chart`. Do not edit.\n' +
    '# Bound by templates/rbac.yaml.\n';
  const { namespaced, clusterScoped, leaderElection } = chartRbacRules();
  return header + stringify({ namespaced, clusterScoped, leaderElection }, { lineWidth: 0, aliasDuplicateObjects: false });
}
