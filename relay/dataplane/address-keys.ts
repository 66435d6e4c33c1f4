// Map keys for peers without per-packet string building in the IPv4 case:
// an IPv4 address packs into a number, and address+port into ip*65536+port
// (< 2^48, exact in a double). IPv6 falls back to strings.
import { ipv4ToInt } from '../stun/ip.js';

export type IpKey = number | string;

export function ipKey(ip: string): IpKey {
  const v = ipv4ToInt(ip);
  return v >= 0 ? v : ip;
}

/** transportAddressKey when the caller already holds `ipv4ToInt(ip)` (negative for IPv6). */
export function transportAddressKeyOf(v4: number, ip: string, port: number): IpKey {
  return v4 >= 0 ? v4 * 65536 + port : `${ip}|${port}`;
}

/** The map key of an IP address and port (a client's source or a peer). */
export function transportAddressKey(ip: string, port: number): IpKey {
  return transportAddressKeyOf(ipv4ToInt(ip), ip, port);
}
