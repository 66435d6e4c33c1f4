// gather: everything one reconcile decides on, read before anything is
// decided. Caches for the children and cluster facts; direct reads where a
// cache is not enough (the auth and TLS Secrets, which credentials and the
// certificate check must see fresh, and child names the label-selected caches
// cannot show because someone else's object carries no label of ours).
import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { TurnRelay } from '../api/turnrelay.js';
import type { Observed } from '../render/index.js';
import { RELAY_LABEL, authSecretNameFor, childNames } from '../render/names.js';
import { SECRET_KIND, kindKey, objectPath, type ResourceKind } from '../runtime/resources.js';
import type { CertificateObject, RawTurnRelay, ReconcileContext } from './context.js';
import {
  allowedServiceKeys,
  endpointIPs,
  nodeAddressMap,
  nodeAddresses,
  serviceClusterIPs,
  serviceIngress,
} from './observe.js';

export interface LiveChild {
  kind: ResourceKind;
  obj: KubernetesObject;
}

export interface RelayInputs {
  raw: RawTurnRelay;
  relay: TurnRelay;
  image: string;
  now: number;
  /** A new random shared secret, used only if the plan creates or rotates the auth Secret. */
  freshSecret: string;
  authSecret?: V1Secret;
  tlsSecret?: V1Secret;
  certificate?: CertificateObject;
  workload?: V1Deployment;
  observed: Observed;
  /** Live objects by childKey(kind, name): the cache entries for the relay's child names, plus direct reads. */
  live: ReadonlyMap<string, KubernetesObject>;
  /** Child keys read directly: absent from `live` means no such object exists. */
  read: ReadonlySet<string>;
  /** Objects in the caches labelled for this relay (prune candidates). */
  labelled: readonly LiveChild[];
}

export const childKey = (kind: Pick<ResourceKind, 'apiVersion' | 'kind'>, name: string) => `${kindKey(kind)}/${name}`;

function observe(ctx: ReconcileContext, relay: TurnRelay): Observed {
  const service = ctx.services.get(childNames(relay).service, relay.metadata.namespace);
  const nodes = relay.spec.network.mode === 'HostNetwork' ? ctx.nodes.list() : [];
  return {
    serviceIngress: serviceIngress(service),
    serviceClusterIPs: serviceClusterIPs(service),
    nodeAddresses: nodeAddresses(nodes),
    nodeAddressMap: nodeAddressMap(nodes),
    allowedServiceIPs: endpointIPs(ctx.endpointSlices.list(), allowedServiceKeys(relay)),
    certManager: ctx.certManagerInstalled(),
    prometheusOperator: ctx.prometheusOperatorInstalled(),
  };
}

/** The name each child kind carries for this relay (names.ts); a kind missing here is simply read directly. */
function childNameOf(relay: TurnRelay, kind: string): string | undefined {
  const n = childNames(relay);
  const byKind: Record<string, string> = {
    ServiceAccount: n.serviceAccount,
    ConfigMap: n.configMap,
    Service: n.service,
    Deployment: n.workload,
    HorizontalPodAutoscaler: n.autoscaler,
    PodDisruptionBudget: n.podDisruptionBudget,
    NetworkPolicy: n.networkPolicy,
    Certificate: n.certificate,
    PodMonitor: n.podMonitor,
    PrometheusRule: n.prometheusRule,
  };
  return byKind[kind];
}

export async function gatherRelay(
  ctx: ReconcileContext,
  raw: RawTurnRelay,
  relay: TurnRelay,
  now = ctx.now(),
): Promise<RelayInputs> {
  const ns = relay.metadata.namespace!;
  const names = childNames(relay);
  const live = new Map<string, KubernetesObject>();
  const labelled: LiveChild[] = [];
  for (const { kind, view } of ctx.children.values()) {
    const name = childNameOf(relay, kind.kind);
    const obj = name ? view.get(name, ns) : undefined;
    if (name && obj) live.set(childKey(kind, name), obj);
    for (const o of view.list(ns))
      if (o.metadata?.labels?.[RELAY_LABEL] === relay.metadata.name) labelled.push({ kind, obj: o });
  }
  // Read from the API, not a cache: credentials must be decided on the latest data.
  const authSecret = await ctx.rest.find<V1Secret>(objectPath(SECRET_KIND, ns, authSecretNameFor(relay)));
  const tlsSecret = relay.spec.tls
    ? await ctx.rest.find<V1Secret>(objectPath(SECRET_KIND, ns, names.tlsSecret))
    : undefined;
  const certificate = ctx.certificates()?.get(names.certificate, ns);
  const workload = ctx.deployments.get(names.workload, ns);
  return {
    raw,
    relay,
    image: ctx.image,
    now,
    freshSecret: ctx.newSecret(),
    ...(authSecret ? { authSecret } : {}),
    ...(tlsSecret ? { tlsSecret } : {}),
    ...(certificate ? { certificate } : {}),
    ...(workload ? { workload } : {}),
    observed: observe(ctx, relay),
    live,
    read: new Set(),
    labelled,
  };
}

/** `inputs` with the given children read directly from the API server. */
export async function gatherUnread(
  ctx: ReconcileContext,
  inputs: RelayInputs,
  unread: ReadonlyArray<{ kind: ResourceKind; name: string; namespace: string }>,
): Promise<RelayInputs> {
  const live = new Map(inputs.live);
  const read = new Set(inputs.read);
  for (const { kind, name, namespace } of unread) {
    const key = childKey(kind, name);
    const obj = await ctx.rest.find<KubernetesObject>(objectPath(kind, namespace, name));
    if (obj) live.set(key, obj);
    read.add(key);
  }
  return { ...inputs, live, read };
}
