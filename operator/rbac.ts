// The operator's RBAC, the single source of truth (the Helm chart's
// ClusterRole/Role are generated from these). Least privilege: only the verbs
// the runtime really uses. Server-side apply that creates an object is
// authorized as both "patch" and "create"; prune needs "delete"; informers
// need "list" and "watch"; "get" reads a child's name before creating it (an
// unlabelled object of someone else's is not in the caches); Events are
// patched to count repeats. Secrets are never patched or deleted: the auth
// Secret is created once and then only replaced (rotation) with its
// resourceVersion, and TLS Secrets are only read.
import type { V1PolicyRule } from '@kubernetes/client-node';

const CHILD_VERBS = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

export const OPERATOR_CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays/status'], verbs: ['patch'] },
  // Children carry blockOwnerDeletion; clusters that enforce owner-reference
  // permissions (OwnerReferencesPermissionEnforcement) require this to set it.
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['configmaps', 'services', 'serviceaccounts'], verbs: CHILD_VERBS },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: CHILD_VERBS },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: CHILD_VERBS },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: CHILD_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: CHILD_VERBS },
  { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: CHILD_VERBS },
  { apiGroups: ['monitoring.coreos.com'], resources: ['podmonitors', 'prometheusrules'], verbs: CHILD_VERBS },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
];

/** Granted in the operator's own namespace only: the leader-election Lease. */
export const OPERATOR_NAMESPACE_RULES: V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/**
 * The credentials API: the API server authenticates callers' tokens and asks
 * RBAC about them on the operator's behalf (both cluster-scoped "create"
 * reviews; neither grants anything by itself).
 */
export const CREDENTIALS_API_CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/**
 * In the operator's own namespace: the self-signed serving certificate's
 * Secret (created once, renewed in place) and the ConfigMap publishing it.
 */
export const CREDENTIALS_API_NAMESPACE_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'patch'] },
];

/** What a workload needs to get credentials for a TurnRelay (the chart aggregates it into admin and edit). */
export const CREDENTIALS_REQUESTER_RULES: V1PolicyRule[] = [
  { apiGroups: ['turnrelay.dev'], resources: ['turnrelays/credentials'], verbs: ['create'] },
];
