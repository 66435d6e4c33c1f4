// Cluster facts the renderer needs, computed purely from cached objects.
import type { KubernetesObject } from '@kubernetes/client-node';

interface ServiceLike {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[] };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}
interface NodeLike {
  status?: { addresses?: Array<{ type?: string; address?: string }> };
}
interface EndpointSliceLike extends KubernetesObject {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean; terminating?: boolean } }>;
}

const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

export function serviceIngress(service: ServiceLike | undefined): string[] {
  return sortedUnique(
    (service?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean),
  );
}

/** The cluster IPs of a ClusterIP Service (none for headless or other types). */
export function serviceClusterIPs(service: ServiceLike | undefined): string[] {
  if (service?.spec?.type !== 'ClusterIP') return [];
  const ips = service.spec.clusterIPs?.length ? service.spec.clusterIPs : [service.spec.clusterIP ?? ''];
  return sortedUnique(ips.filter((ip) => ip && ip !== 'None'));
}

/** Each node's external address, else its internal one (what a HostNetwork relay is reached on). */
export function nodeAddresses(nodes: readonly NodeLike[]): string[] {
  const out: string[] = [];
  for (const node of nodes) {
    const addrs = node.status?.addresses ?? [];
    const pick =
      addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'InternalIP')?.address;
    if (pick) out.push(pick);
  }
  return sortedUnique(out);
}

/**
 * Each node's internal address → the address clients reach it on (its
 * external one behind 1:1 NAT, else the internal one itself), so every
 * HostNetwork pod advertises its own node's address from one shared config.
 */
export function nodeAddressMap(nodes: readonly NodeLike[]): Array<{ internal: string; external: string }> {
  const pairs = new Map<string, string>();
  for (const node of nodes) {
    const addrs = node.status?.addresses ?? [];
    const internal = addrs.find((a) => a.type === 'InternalIP')?.address;
    const external = addrs.find((a) => a.type === 'ExternalIP')?.address;
    if (internal) pairs.set(internal, external ?? internal);
  }
  return [...pairs].sort(([a], [b]) => a.localeCompare(b)).map(([internal, external]) => ({ internal, external }));
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Namespace/name of every Service the relay may relay to. */
export function allowedServiceKeys(relay: { metadata?: { namespace?: string }; spec?: unknown }): string[] {
  const ns = relay.metadata?.namespace ?? '';
  // Read defensively: the controller asks this of relays it has not validated.
  const list = (relay.spec as { peers?: { allowServices?: unknown } } | undefined)?.peers?.allowServices;
  if (!Array.isArray(list)) return [];
  return list.flatMap((s: { name?: unknown; namespace?: unknown } | null | undefined) =>
    typeof s?.name === 'string' ? [`${typeof s.namespace === 'string' ? s.namespace : ns}/${s.name}`] : [],
  );
}

/** Addresses of the endpoints of those Services that are not known to be unready. */
export function endpointIPs(slices: readonly EndpointSliceLike[], serviceKeys: readonly string[]): string[] {
  const wanted = new Set(serviceKeys);
  const out: string[] = [];
  for (const slice of slices) {
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || !wanted.has(`${slice.metadata?.namespace}/${svc}`)) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      out.push(...(ep.addresses ?? []));
    }
  }
  return sortedUnique(out);
}
