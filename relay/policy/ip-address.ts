// Strict IP address parsing into integers, so range checks are a few integer
// operations. IPv4 must be canonical dotted-quad (no octal/hex/short forms,
// no leading zeros: "0127.0.0.1" is ambiguous across parsers and is refused).
// IPv6 is validated by the platform's inet_pton (net.isIP) and split into
// four 32-bit words by ipaddr.js.
import { isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Four big-endian 32-bit words of an IPv6 address. */
export type IPv6Words = readonly [number, number, number, number];

export type ParsedIp =
  | { family: 4; v4: number }
  | { family: 6; words: IPv6Words; zone: string | undefined };

/** Parses canonical dotted-quad IPv4 into an unsigned 32-bit integer, or -1. Allocation-free. */
export function parseIPv4(text: string): number {
  const len = text.length;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

export function formatIPv4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

/** Parses an IPv6 address (optionally with a %zone) into words, or null. */
export function parseIPv6(text: string): { words: IPv6Words; zone: string | undefined } | null {
  const percent = text.indexOf('%');
  const bare = percent === -1 ? text : text.slice(0, percent);
  const zone = percent === -1 ? undefined : text.slice(percent + 1);
  if (zone !== undefined && !/^[A-Za-z0-9_.\-]{1,64}$/.test(zone)) return null;
  if (!isIPv6(bare)) return null;
  const p = ipaddr.IPv6.parse(bare).parts;
  if (p.length !== 8) return null;
  const word = (i: number) => (((p[i] as number) << 16) | (p[i + 1] as number)) >>> 0;
  return { words: [word(0), word(2), word(4), word(6)], zone };
}

/** Parses either family; surrounding brackets ("[::1]") are accepted for IPv6. */
export function parseIp(text: string): ParsedIp | null {
  const v4 = parseIPv4(text);
  if (v4 !== -1) return { family: 4, v4 };
  const unbracketed = text.length > 2 && text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v6 = parseIPv6(unbracketed);
  return v6 ? { family: 6, words: v6.words, zone: v6.zone } : null;
}

export function formatIPv6(words: IPv6Words): string {
  const parts: number[] = [];
  for (const w of words) parts.push(w >>> 16, w & 0xffff);
  return new ipaddr.IPv6(parts).toString();
}
