// IPv6 forms that carry an IPv4 address, and where the IPv4 sits. A peer
// written as one of these reaches (or is translated to) that IPv4, so the
// policy must judge the IPv4 too: ::ffff:169.254.169.254 is the metadata
// service, however it is spelled.
import type { IPv6Words } from './ip-address.js';

const NAT64_HI = 0x0064ff9b;

/**
 * Calls `visit` with every IPv4 address embedded in `w` (there can be
 * several: NAT64 local-use addresses are read in each RFC 6052 layout, and
 * Teredo carries both server and client). Stops early when visit returns true.
 * Returns true if some visit returned true. Allocation-free.
 */
export function someEmbeddedIPv4(w: IPv6Words, visit: (v4: number) => boolean): boolean {
  const [w0, w1, w2, w3] = w;
  // ISATAP interface identifiers (RFC 5214) under any prefix: ...:0:5efe:a.b.c.d
  // and ...:200:5efe:a.b.c.d (the universal/local bit set) carry an IPv4.
  if ((w2 === 0x00005efe || w2 === 0x02005efe) && visit(w3)) return true;
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (deprecated);
  // :: and ::1 are themselves, not compatible forms of 0.0.0.0/0.0.0.1.
  if (w0 === 0 && w1 === 0) {
    if (w2 === 0xffff) return visit(w3);
    if (w2 === 0 && w3 > 1) return visit(w3);
    return false;
  }
  if (w0 === NAT64_HI) {
    // Well-known prefix 64:ff9b::/96.
    if (w1 === 0 && w2 === 0) return visit(w3);
    // Local-use 64:ff9b:1::/48 may be carved into /48, /56, /64 or /96
    // translators (RFC 6052 section 2.2; bits 64-71 are the zero "u" octet)
    // and the address does not say which, so every layout is judged. Layouts
    // that are not in use read as 0.0.0.0/8 and are skipped: no translator
    // forwards to "this network".
    if (w1 >>> 16 === 0x0001) {
      return (
        visitRouted(visit, (((w1 & 0xffff) << 16) | ((w2 >>> 8) & 0xffff)) >>> 0) ||
        visitRouted(visit, (((w1 & 0xff) << 24) | (w2 & 0xffffff)) >>> 0) ||
        visitRouted(visit, (((w2 & 0xffffff) << 8) | (w3 >>> 24)) >>> 0) ||
        visitRouted(visit, w3)
      );
    }
    return false;
  }
  // 6to4 2002:aabb:ccdd::/48 -> aa.bb.cc.dd.
  if (w0 >>> 16 === 0x2002) return visit((((w0 & 0xffff) << 16) | (w1 >>> 16)) >>> 0);
  // Teredo 2001:0000:<server v4>:<flags>:<port>:<client v4 XOR ffffffff>.
  if (w0 === 0x20010000) return visit(~w3 >>> 0) || visit(w1);
  return false;
}

function visitRouted(visit: (v4: number) => boolean, v4: number): boolean {
  return v4 >>> 24 !== 0 && visit(v4);
}
