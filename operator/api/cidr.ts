// Address helpers shared by validation and rendering.
import ipaddr from 'ipaddr.js';

export function isCidr(text: string): boolean {
  if (!text.includes('/')) return false;
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

export function isIp(text: string): boolean {
  return ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text));
}

export function isIpv6(text: string): boolean {
  return !ipaddr.IPv4.isValidFourPartDecimal(text) && ipaddr.IPv6.isValid(text);
}

/** A single address as a host CIDR: /32 for IPv4, /128 for IPv6. */
export function hostCidr(address: string): string {
  return isIpv6(address) ? `${address}/128` : `${address}/32`;
}
