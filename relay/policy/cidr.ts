// CIDR ranges as precomputed base/mask integers. A bare address is a host
// range (/32 or /128). IPv4-mapped IPv6 ranges (::ffff:a.b.c.d/104) are
// turned into their IPv4 range, because the policy checks peers in their
// canonical IPv4 form.
import { parseIPv4, parseIPv6, type IPv6Words } from './ip-address.js';

export type Cidr =
  | { family: 4; base: number; mask: number; prefix: number; text: string }
  | { family: 6; base: IPv6Words; mask: IPv6Words; prefix: number; text: string };

export class CidrError extends Error {
  override name = 'CidrError';
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): IPv6Words {
  const word = (i: number) => v4Mask(Math.max(0, Math.min(32, prefix - 32 * i)));
  return [word(0), word(1), word(2), word(3)];
}

/**
 * `mappedAsIPv4` (default true) turns ::ffff:a.b.c.d/N (N >= 96) into the
 * IPv4 range a.b.c.d/(N-96); false keeps it an IPv6 range.
 */
export function parseCidr(text: string, opts: { mappedAsIPv4?: boolean } = {}): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addr = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
    throw new CidrError(`invalid CIDR "${text}": prefix length must be a number`);
  }
  const v4 = parseIPv4(addr);
  if (v4 !== -1) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) throw new CidrError(`invalid CIDR "${text}": IPv4 prefix length must be 0-32`);
    const mask = v4Mask(prefix);
    return { family: 4, base: (v4 & mask) >>> 0, mask, prefix, text: trimmed };
  }
  const v6 = parseIPv6(addr);
  if (!v6 || v6.zone !== undefined) {
    throw new CidrError(
      `invalid CIDR "${text}": expected an IPv4 or IPv6 address with optional /prefix (e.g. 10.0.0.0/8, fd00::/8)`,
    );
  }
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) throw new CidrError(`invalid CIDR "${text}": IPv6 prefix length must be 0-128`);
  const w = v6.words;
  if (opts.mappedAsIPv4 !== false && prefix >= 96 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
    const mask = v4Mask(prefix - 96);
    return { family: 4, base: (w[3] & mask) >>> 0, mask, prefix: prefix - 96, text: trimmed };
  }
  const mask = v6Mask(prefix);
  return {
    family: 6,
    base: [(w[0] & mask[0]) >>> 0, (w[1] & mask[1]) >>> 0, (w[2] & mask[2]) >>> 0, (w[3] & mask[3]) >>> 0],
    mask,
    prefix,
    text: trimmed,
  };
}

export function v4InCidr(v4: number, cidr: Cidr & { family: 4 }): boolean {
  return (v4 & cidr.mask) >>> 0 === cidr.base;
}

export function v6InCidr(w: IPv6Words, cidr: Cidr & { family: 6 }): boolean {
  const b = cidr.base;
  const m = cidr.mask;
  return (
    (w[0] & m[0]) >>> 0 === b[0] &&
    (w[1] & m[1]) >>> 0 === b[1] &&
    (w[2] & m[2]) >>> 0 === b[2] &&
    (w[3] & m[3]) >>> 0 === b[3]
  );
}

/** CIDRs split by family, ready for matching. */
export class CidrSet {
  readonly v4: ReadonlyArray<Cidr & { family: 4 }>;
  readonly v6: ReadonlyArray<Cidr & { family: 6 }>;

  constructor(cidrs: Iterable<string | Cidr>, opts: { mappedAsIPv4?: boolean } = {}) {
    const v4: Array<Cidr & { family: 4 }> = [];
    const v6: Array<Cidr & { family: 6 }> = [];
    for (const entry of cidrs) {
      const cidr = typeof entry === 'string' ? parseCidr(entry, opts) : entry;
      if (cidr.family === 4) v4.push(cidr);
      else v6.push(cidr);
    }
    this.v4 = v4;
    this.v6 = v6;
  }

  hasV4(v4: number): boolean {
    for (const c of this.v4) if (v4InCidr(v4, c)) return true;
    return false;
  }

  hasV6(w: IPv6Words): boolean {
    for (const c of this.v6) if (v6InCidr(w, c)) return true;
    return false;
  }
}
