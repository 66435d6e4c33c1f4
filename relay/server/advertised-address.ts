// Which relayed address a client is told (XOR-RELAYED-ADDRESS): the configured
// external address, else the external address mapped to one of this host's
// own addresses, else the bind address, else the address the client reached,
// else this host's first routable interface address. A UDP listener bound to
// the unspecified address does not learn the address a client reached, and a
// relayed address of 0.0.0.0 is one no peer can send to; in a pod the first
// routable interface address is the pod IP.
import { networkInterfaces } from 'node:os';
import { familyOf } from '../stun/ip.js';
import type { RelayConfig } from '../config/schema.js';

export const isUnspecified = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** This host's interface addresses (scope ids dropped). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.split('%')[0]!));
}

export function advertisedAddress(
  relay: RelayConfig['relay'],
  family: 4 | 6,
  reachedOn: string,
  local: () => string[] = localAddresses,
): string {
  const external = externalAddressFor(relay, family, local);
  if (external) return external;
  const host = family === 4 ? relay.host : relay.host6!;
  if (!isUnspecified(host)) return host;
  if (familyOf(reachedOn) === family && !isUnspecified(reachedOn)) return reachedOn;
  return local().find((address) => familyOf(address) === family && isRoutableInterfaceAddress(address)) ?? host;
}

/** The external address that stands in for this host's relayed addresses of `family`, if one does. */
function externalAddressFor(relay: RelayConfig['relay'], family: 4 | 6, local: () => string[]): string | undefined {
  const external = family === 4 ? relay.externalAddress : relay.externalAddress6;
  if (external) return external;
  const mapped = (relay.externalAddressMap ?? []).filter((m) => familyOf(m.external) === family);
  if (!mapped.length) return undefined;
  const own = new Set(local());
  return mapped.find((m) => own.has(m.internal))?.external;
}

/**
 * Whether `advertised` (what advertisedAddress returned) is an address of this host: no
 * external address stands in for it. Only then does a datagram sent to it reach this very
 * relay; an external address may be shared (a load balancer in front of several pods).
 */
export function isOwnRelayedAddress(
  relay: RelayConfig['relay'],
  family: 4 | 6,
  advertised: string,
  local: () => string[] = localAddresses,
): boolean {
  return !isUnspecified(advertised) && externalAddressFor(relay, family, local) === undefined;
}

/** Not loopback, link-local or unspecified: an address a peer elsewhere could be routed to. */
function isRoutableInterfaceAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (isUnspecified(a) || a === '::1' || a.startsWith('127.') || a.startsWith('169.254.')) return false;
  return !/^fe[89ab]/.test(a);
}
