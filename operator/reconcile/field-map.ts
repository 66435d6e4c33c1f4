// The API server names the child's field when it refuses an apply
// (`spec.template.spec.nodeSelector`); the user wrote the TurnRelay's
// (`spec.nodeSelector`). Rewrite the paths we know back to the TurnRelay field
// that produced them, so status and Events point at what to fix.
const FIELDS: ReadonlyArray<readonly [kind: string, childPath: string, relayField: string]> = [
  ['Deployment', 'spec.template.spec.nodeSelector', 'spec.nodeSelector'],
  ['Deployment', 'spec.template.spec.tolerations', 'spec.tolerations'],
  ['Deployment', 'spec.template.spec.affinity', 'spec.affinity'],
  ['Deployment', 'spec.template.spec.containers[0].resources', 'spec.resources'],
  ['Deployment', 'spec.template.spec.containers[0].image', 'spec.image'],
  ['Deployment', 'spec.template.spec.terminationGracePeriodSeconds', 'spec.drain.gracePeriod'],
  ['Deployment', 'spec.replicas', 'spec.replicas'],
  ['Service', 'metadata.annotations', 'spec.network.service.annotations'],
  ['Service', 'spec.loadBalancerClass', 'spec.network.service.loadBalancerClass'],
  ['Service', 'spec.externalTrafficPolicy', 'spec.network.service.externalTrafficPolicy'],
  ['Service', 'spec.type', 'spec.network.service.type'],
  ['Service', 'spec.ports', 'spec.listeners'],
  ['HorizontalPodAutoscaler', 'spec.minReplicas', 'spec.autoscaling.minReplicas'],
  ['HorizontalPodAutoscaler', 'spec.maxReplicas', 'spec.autoscaling.maxReplicas'],
  ['Certificate', 'spec.dnsNames', 'spec.tls.dnsNames'],
  ['Certificate', 'spec.issuerRef', 'spec.tls.issuerRef'],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `message` with every known child field path of `kind` replaced by the TurnRelay field. */
export function toRelayFields(kind: string, message: string): string {
  let out = message;
  for (const [k, childPath, relayField] of FIELDS) {
    if (k !== kind) continue;
    // Whole path segments only: "spec.replicas" must not match inside "spec.maxReplicas".
    out = out.replace(new RegExp(`(^|[\\s"'(,])${escape(childPath)}(?=$|[\\s.\\[:"',)])`, 'g'), `$1${relayField}`);
  }
  return out;
}
