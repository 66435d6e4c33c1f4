// Address helpers shared by validation and rendering. CIDRs are parsed by the
// relay's own parser, so the operator never accepts one the relay would refuse.
import { isIP, isIPv6 as isNodeIPv6 } from 'node:net';
import { parseCidr } from '../../relay/policy/cidr.js';

/** An address with an explicit /prefix (the relay also takes bare addresses; the API asks for the prefix). */
export function isCidr(text: string): boolean {
  if (!text.includes('/') || text.trim() !== text) return false;
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

export function isIp(text: string): boolean {
  return isIP(text) !== 0;
}

export function isIpv6(text: string): boolean {
  return isNodeIPv6(text);
}

/** A single address as a host CIDR: /32 for IPv4, /128 for IPv6. */
export function hostCidr(address: string): string {
  return isIpv6(address) ? `${address}/128` : `${address}/32`;
}
