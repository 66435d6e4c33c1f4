// IP address text <-> bytes, with a fast path for dotted IPv4 (the common case
// on the per-packet Send path) and ipaddr.js for IPv6.
import { SocketAddress } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** Packs dotted IPv4 into an unsigned 32-bit number without allocating; -1 if not dotted IPv4. */
export function ipv4ToInt(address: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

export function intToIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function familyOf(address: string): IpFamily {
  return address.includes(':') ? 6 : 4;
}

/** Strips an IPv6 zone id ("fe80::1%eth0") that Node may report for link-local peers. */
function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

/** "::a.b.c.d" -> "::xxxx:yyyy": ipaddr.js reads some dotted-tail forms as IPv4-mapped, so convert first. */
function hexTail(address: string): string {
  if (!address.includes('.') || !address.includes(':')) return address;
  const i = address.lastIndexOf(':');
  const v4 = ipv4ToInt(address.slice(i + 1));
  if (v4 < 0) return address;
  return `${address.slice(0, i + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
}

export function ipToBytes(address: string): Buffer {
  const v4 = ipv4ToInt(address);
  if (v4 >= 0) {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v4, 0);
    return b;
  }
  const parsed = ipaddr.parse(hexTail(stripZone(address)));
  if (parsed.kind() !== 'ipv6') throw new Error(`not an IP address: ${address}`);
  return Buffer.from(parsed.toByteArray());
}

export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return intToIpv4(bytes.readUInt32BE(0));
  if (bytes.length === 16) return formatIpv6(ipaddr.fromByteArray([...bytes]).toString());
  throw new Error('address must be 4 or 16 bytes');
}

/**
 * IPv6 text exactly as Node reports peer addresses (inet_ntop: RFC 5952, with
 * dotted IPv4 in ::ffff:a.b.c.d), so permission keys match `rinfo.address`.
 */
function formatIpv6(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** Canonical text for an address, so "::0001" and "::1" compare equal. */
export function canonicalIp(address: string): string {
  if (ipv4ToInt(address) >= 0) return address;
  return formatIpv6(stripZone(address));
}
