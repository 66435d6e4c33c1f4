// The API resources the operator touches, with the REST paths built from them.
export interface ResourceKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const kind = (apiVersion: string, k: string, plural: string, namespaced = true): ResourceKind => ({
  apiVersion,
  kind: k,
  plural,
  namespaced,
});

export const TURNRELAY_KIND = kind('turnrelay.dev/v1alpha1', 'TurnRelay', 'turnrelays');
export const SECRET_KIND = kind('v1', 'Secret', 'secrets');
export const NODE_KIND = kind('v1', 'Node', 'nodes', false);
export const ENDPOINTSLICE_KIND = kind('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices');
export const EVENT_KIND = kind('v1', 'Event', 'events');
export const LEASE_KIND = kind('coordination.k8s.io/v1', 'Lease', 'leases');
export const CERTIFICATE_KIND = kind('cert-manager.io/v1', 'Certificate', 'certificates');
export const PODMONITOR_KIND = kind('monitoring.coreos.com/v1', 'PodMonitor', 'podmonitors');
export const PROMETHEUSRULE_KIND = kind('monitoring.coreos.com/v1', 'PrometheusRule', 'prometheusrules');

/** Child kinds from other projects' CRDs: watched (and rendered) only once the API server serves them. */
export const OPTIONAL_CHILD_KINDS: readonly ResourceKind[] = [CERTIFICATE_KIND, PODMONITOR_KIND, PROMETHEUSRULE_KIND];

/** Kinds the renderer may produce as children; each is watched by label and pruned when unwanted. */
export const CHILD_KINDS: readonly ResourceKind[] = [
  kind('v1', 'ServiceAccount', 'serviceaccounts'),
  kind('v1', 'ConfigMap', 'configmaps'),
  kind('v1', 'Service', 'services'),
  kind('apps/v1', 'Deployment', 'deployments'),
  kind('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  kind('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  kind('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  CERTIFICATE_KIND,
  PODMONITOR_KIND,
  PROMETHEUSRULE_KIND,
];

/** The key of a kind's cache in the controller's children map. */
export function kindKey(k: Pick<ResourceKind, 'apiVersion' | 'kind'>): string {
  return `${k.apiVersion}/${k.kind}`;
}

export function childKindOf(apiVersion: string | undefined, k: string | undefined): ResourceKind | undefined {
  return CHILD_KINDS.find((c) => c.apiVersion === apiVersion && c.kind === k);
}

function groupPrefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function collectionPath(r: ResourceKind, namespace?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPrefix(r.apiVersion)}${ns}/${r.plural}`;
}

export function objectPath(r: ResourceKind, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}
