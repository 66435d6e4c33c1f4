// Strict IP address parsing into integers, so range checks are a few integer
// operations. Hand-written and allocation-free because the peer policy runs
// per Send indication; the unit tests check it against the platform's
// inet_pton (net.isIP) on random input. Only canonical text forms are
// accepted: IPv4 must be dotted-quad without leading zeros ("0127.0.0.1" and
// "127.1" mean different things to different parsers and are refused).
import ipaddr from 'ipaddr.js';

/** Four big-endian 32-bit words of an IPv6 address. */
export type IPv6Words = readonly [number, number, number, number];

export type ParsedIp = { family: 4; v4: number } | { family: 6; words: IPv6Words; zone: string | undefined };

/** Parses dotted-quad IPv4 in text[start, end) into an unsigned 32-bit integer, or -1. */
export function parseIPv4Range(text: string, start: number, end: number): number {
  const len = end - start;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
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

export function parseIPv4(text: string): number {
  return parseIPv4Range(text, 0, text.length);
}

export function formatIPv4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

const groups = new Uint16Array(8); // scratch: parsed groups in order of appearance

/**
 * Parses IPv6 text[start, end) (no zone, no brackets) into `out` (4 words).
 * Returns false on anything inet_pton would reject.
 */
export function parseIPv6Range(text: string, start: number, end: number, out: Uint32Array | number[]): boolean {
  if (end - start < 2 || end - start > 45) return false;
  let count = 0; // groups parsed
  let gap = -1; // index in `groups` where "::" stands
  let i = start;
  if (text.charCodeAt(i) === 58 /* : */) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    const groupStart = i;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h === -1) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46 /* . */) {
      // Dotted IPv4 tail: takes the last two groups.
      if (count > 6) return false;
      const v4 = parseIPv4Range(text, groupStart, end);
      if (v4 === -1) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
    } else if (i === end) {
      return false; // trailing single ':'
    }
  }
  if (gap === -1 ? count !== 8 : count > 7) return false;
  // Expand: groups after the gap move to the end; zeros fill the gap.
  const zeros = 8 - count;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let half = 0; half < 2; half++) {
      const pos = w * 2 + half;
      let g: number;
      if (gap === -1 || pos < gap) g = groups[pos] as number;
      else if (pos < gap + zeros) g = 0;
      else g = groups[pos - zeros] as number;
      word = word * 65536 + g;
    }
    out[w] = word;
  }
  return true;
}

const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Whether text is a zone id this relay accepts after "%" (an interface name or index). */
export function isZoneId(text: string): boolean {
  return ZONE.test(text);
}

/** Parses an IPv6 address (optionally with a %zone) into words, or null. */
export function parseIPv6(text: string): { words: IPv6Words; zone: string | undefined } | null {
  const percent = text.indexOf('%');
  const end = percent === -1 ? text.length : percent;
  const zone = percent === -1 ? undefined : text.slice(percent + 1);
  if (zone !== undefined && !isZoneId(zone)) return null;
  const out = [0, 0, 0, 0];
  if (!parseIPv6Range(text, 0, end, out)) return null;
  return { words: out as unknown as IPv6Words, zone };
}

/** Parses either family; surrounding brackets ("[::1]") are accepted for IPv6. */
export function parseIp(text: string): ParsedIp | null {
  const v4 = parseIPv4(text);
  if (v4 !== -1) return { family: 4, v4 };
  const unbracketed = text.length > 2 && text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v6 = parseIPv6(unbracketed);
  return v6 ? { family: 6, words: v6.words, zone: v6.zone } : null;
}

/** RFC 5952 text form. */
export function formatIPv6(words: IPv6Words): string {
  const parts: number[] = [];
  for (const w of words) parts.push(w >>> 16, w & 0xffff);
  return new ipaddr.IPv6(parts).toString();
}
