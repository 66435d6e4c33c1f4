// Which addresses the relay advertises: an explicit spec override, else the
// node addresses (HostNetwork) or the Service's load-balancer ingress.
import { isIp, isIpv6 } from '../api/cidr.js';
import type { TurnRelay } from '../api/turnrelay.js';
import type { Observed } from './observed.js';

/** Hosts (IPs or DNS names) clients reach the relay on, in a stable order. */
function advertisedHosts(relay: TurnRelay, observed: Pick<Observed, 'serviceIngress' | 'nodeAddresses'>): string[] {
  const { network } = relay.spec;
  const hosts = network.externalAddresses?.length
    ? network.externalAddresses
    : network.mode === 'HostNetwork'
      ? observed.nodeAddresses
      : observed.serviceIngress;
  return [...new Set(hosts)];
}

/**
 * Hosts clients put in their ICE server URLs: the advertised hosts, or for a
 * ClusterIP Service (in-cluster clients only) its cluster IPs.
 */
export function clientHosts(
  relay: TurnRelay,
  observed: Pick<Observed, 'serviceIngress' | 'nodeAddresses' | 'serviceClusterIPs'>,
): string[] {
  const hosts = advertisedHosts(relay, observed);
  return hosts.length ? hosts : [...new Set(observed.serviceClusterIPs ?? [])];
}

/**
 * The relayed-address override for the relay config (XOR-RELAYED-ADDRESS).
 * One config serves every pod, so a family gets an address only when it is
 * unambiguous: several distinct node addresses leave it unset (each pod then
 * advertises its own bound address).
 */
export function externalRelayAddresses(
  relay: TurnRelay,
  observed: Pick<Observed, 'serviceIngress' | 'nodeAddresses'>,
): { externalAddress?: string; externalAddress6?: string } {
  const { network } = relay.spec;
  const fromNodes = network.mode === 'HostNetwork' && !network.externalAddresses?.length;
  const ips = advertisedHosts(relay, observed).filter(isIp);
  const pick = (list: string[]) => (fromNodes && list.length > 1 ? undefined : list[0]);
  const a4 = pick(ips.filter((ip) => !isIpv6(ip)));
  const a6 = pick(ips.filter(isIpv6));
  return { ...(a4 ? { externalAddress: a4 } : {}), ...(a6 ? { externalAddress6: a6 } : {}) };
}
