// The chart's RBAC rules file (charts/turnrelay-operator/files/operator-rbac.yaml),
// rendered from the operator's own list of permissions so the chart grants
// exactly what the operator uses. templates/rbac.yaml binds the three groups:
// namespaced rules cluster-wide (or in watchNamespace only), cluster-wide
// rules always cluster-wide, leader-election rules in the operator's namespace.
import type { V1PolicyRule } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  CREDENTIALS_API_CLUSTER_RULES,
  CREDENTIALS_API_NAMESPACE_RULES,
  CREDENTIALS_REQUESTER_RULES,
  OPERATOR_CLUSTER_RULES,
  OPERATOR_NAMESPACE_RULES,
} from '../../operator/rbac.js';

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
  'authentication.k8s.io/tokenreviews',
  'authorization.k8s.io/subjectaccessreviews',
]);

/**
 * Namespaced resources the operator reads across namespaces even when it
 * watches one: `peers.allowServices` may name a Service in another namespace,
 * whose EndpointSlices it must follow.
 */
export const CROSS_NAMESPACE_READS = new Set(['discovery.k8s.io/endpointslices']);

export type ChartRbacRules = {
  namespaced: V1PolicyRule[];
  clusterWide: V1PolicyRule[];
  leaderElection: V1PolicyRule[];
  /** Bound only when the chart enables the credentials API. */
  credentialsApi: { clusterWide: V1PolicyRule[]; ownNamespace: V1PolicyRule[]; requester: V1PolicyRule[] };
};

const key = (group: string, resource: string): string => `${group}/${resource.split('/')[0]}`;
const needsClusterWide = (group: string, resource: string): boolean =>
  CLUSTER_SCOPED_RESOURCES.has(key(group, resource)) || CROSS_NAMESPACE_READS.has(key(group, resource));

/** Splits rules into those a RoleBinding can grant and those that must be cluster-wide (a mixed rule is split in two). */
export function splitByScope(rules: readonly V1PolicyRule[]): Pick<ChartRbacRules, 'namespaced' | 'clusterWide'> {
  const namespaced: V1PolicyRule[] = [];
  const clusterWide: V1PolicyRule[] = [];
  for (const rule of rules) {
    const groups = rule.apiGroups ?? [''];
    const resources = rule.resources ?? [];
    if (rule.nonResourceURLs?.length) {
      clusterWide.push(rule);
      continue;
    }
    const pick = (wantClusterWide: boolean) =>
      resources.filter((r) => groups.some((g) => needsClusterWide(g, r)) === wantClusterWide);
    const cluster = pick(true);
    const local = pick(false);
    if (local.length > 0) namespaced.push({ ...rule, resources: local });
    if (cluster.length > 0) clusterWide.push({ ...rule, resources: cluster });
  }
  return { namespaced, clusterWide };
}

export function chartRbacRules(): ChartRbacRules {
  return {
    ...splitByScope(OPERATOR_CLUSTER_RULES),
    leaderElection: [...OPERATOR_NAMESPACE_RULES],
    credentialsApi: {
      clusterWide: [...CREDENTIALS_API_CLUSTER_RULES],
      ownNamespace: [...CREDENTIALS_API_NAMESPACE_RULES],
      requester: [...CREDENTIALS_REQUESTER_RULES],
    },
  };
}

export function chartRbacYaml(): string {
  const header =
    '# Generated from operator/rbac.ts by `npm run generate:chart`. Do not edit.\n' +
    '# Bound by templates/rbac.yaml.\n';
  const { namespaced, clusterWide, leaderElection, credentialsApi } = chartRbacRules();
  return (
    header +
    stringify(
      { namespaced, clusterWide, leaderElection, credentialsApi },
      { lineWidth: 0, aliasDuplicateObjects: false },
    )
  );
}
