// Stand-in for operator/rbac.ts until the operator runtime publishes its
// rules: the permissions issue 4 implies. chart-rbac.ts switches to the
// operator's own export as soon as it exists.
import type { V1PolicyRule } from '@kubernetes/client-node';

const CHILD_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const OPERATOR_CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['configmaps', 'services', 'serviceaccounts'], verbs: CHILD_VERBS },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: CHILD_VERBS },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: CHILD_VERBS },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: CHILD_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: CHILD_VERBS },
  { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: CHILD_VERBS },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
];

export const OPERATOR_NAMESPACE_RULES: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];
