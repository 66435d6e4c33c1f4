// Decides whether the relay may send to a peer address. Called on every
// CreatePermission, ChannelBind and Send indication, so the tables are
// precomputed integers and each check is a handful of comparisons; verdicts
// are shared constant objects (no allocation per call).
//
// Order of judgement (first match wins):
//   1. unparsable input                       -> 'invalid'
//   2. denyCIDRs (the address or any IPv4 it embeds) -> 'denied-cidr' (always wins)
//   3. the relay's own addresses               -> 'relay-address', unless
//      allowCIDRs covers it; at a relay port this relay holds right now it
//      is another allocation on this relay (both call parties use the same
//      TURN server) and allowed,
//      also in a private, CGNAT or unique-local range (in a pod without an
//      external address the relayed address is the private pod IP)
//   4. every IPv4 embedded in an IPv6 form (mapped, compatible, NAT64,
//      6to4, Teredo) must itself pass the IPv4 built-in list or allowCIDRs
//   5. the address itself must pass the built-in list or allowCIDRs
import { CidrSet, parseCidr, v4InCidr, v6InCidr, type Cidr } from './cidr.js';
import { someEmbeddedIPv4 } from './embedded-ipv4.js';
import { isZoneId, parseIPv4Range, parseIPv6Range, type IPv6Words } from './ip-address.js';
import {
  IPV4_SPECIAL,
  IPV6_GLOBAL_UNICAST,
  IPV6_SPECIAL,
  NAT64_WELL_KNOWN,
  PEER_DENY_REASONS,
  type PeerDenyReason,
  type SpecialRange,
} from './special-purpose.js';

export { PEER_DENY_REASONS, type PeerDenyReason };

export type PeerVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: PeerDenyReason };

export interface PeerPolicyOptions {
  allowCIDRs: string[];
  denyCIDRs: string[];
  /** Addresses the relay itself listens or relays on (bind and advertised addresses). */
  relayAddresses: string[];
  /** Relay port range; relay addresses at these ports are other allocations on this relay. */
  relayPortRange?: { min: number; max: number };
}

const ALLOWED: PeerVerdict = Object.freeze({ allowed: true });
const DENIED = new Map<PeerDenyReason, PeerVerdict>(
  PEER_DENY_REASONS.map((reason) => [reason, Object.freeze({ allowed: false, reason })]),
);
function deny(reason: PeerDenyReason): PeerVerdict {
  return DENIED.get(reason) as PeerVerdict;
}

type Tagged<F extends 4 | 6> = Cidr & { family: F } & { reason: PeerDenyReason };

// Most specific first, so the reported label is the narrowest registry entry.
function compileSpecial<F extends 4 | 6>(family: F, ranges: readonly SpecialRange[]): Tagged<F>[] {
  return ranges
    .map((r) => ({ ...parseCidr(r.cidr, { mappedAsIPv4: false }), reason: r.reason }) as Tagged<F>)
    .filter((c) => c.family === family)
    .sort((a, b) => b.prefix - a.prefix);
}

const V4_SPECIAL = compileSpecial(4, IPV4_SPECIAL);
const V6_SPECIAL = compileSpecial(6, IPV6_SPECIAL);
const GLOBAL_UNICAST = new CidrSet([IPV6_GLOBAL_UNICAST]);
const NAT64_WKP = new CidrSet([NAT64_WELL_KNOWN]);

// Indexed by first octet, so an IPv4 check looks at one or two entries.
const V4_BY_OCTET: Tagged<4>[][] = Array.from({ length: 256 }, (_, octet) =>
  V4_SPECIAL.filter((c) => ((((octet << 24) >>> 0) & c.mask) >>> 0) >>> 24 === c.base >>> 24),
);

function v4SpecialReason(v4: number): PeerDenyReason | undefined {
  for (const c of V4_BY_OCTET[v4 >>> 24] as Tagged<4>[]) if (v4InCidr(v4, c)) return c.reason;
  return undefined;
}

// Indexed by the first byte, for the same reason.
const V6_BY_TOP_BYTE: Tagged<6>[][] = Array.from({ length: 256 }, (_, byte) =>
  V6_SPECIAL.filter((c) => ((byte << 24) & c.mask[0] & 0xff000000) >>> 0 === (c.base[0] & 0xff000000) >>> 0),
);

function v6SpecialReason(w: IPv6Words): PeerDenyReason | undefined {
  for (const c of V6_BY_TOP_BYTE[w[0] >>> 24] as Tagged<6>[]) if (v6InCidr(w, c)) return c.reason;
  if (NAT64_WKP.hasV6(w)) return undefined; // judged by its embedded IPv4 alone
  return GLOBAL_UNICAST.hasV6(w) ? undefined : 'reserved';
}

// Ranges a relayed address can sit in without an external address (a pod IP,
// a private node address): there the relay's own address at a relay port is
// another allocation. Loopback, link-local and the rest stay refused.
const OWN_RELAYED_RANGES: ReadonlySet<PeerDenyReason> = new Set(['private', 'cgnat', 'unique-local']);

function ownRelayedVerdict(reason: PeerDenyReason | undefined): PeerVerdict {
  return reason === undefined || OWN_RELAYED_RANGES.has(reason) ? ALLOWED : deny(reason);
}

function readWord(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export class PeerPolicy {
  private allow!: CidrSet;
  private denyList!: CidrSet;
  private relay!: CidrSet;
  private portMin = 1;
  private portMax = 0; // empty range unless configured
  private readonly words: [number, number, number, number] = [0, 0, 0, 0]; // parse scratch
  // Scratch for the embedded-IPv4 visitor, so the hot path allocates no closures.
  private embeddedReason: PeerDenyReason | undefined;
  private readonly visitDenied = (v4: number): boolean => this.denyList.hasV4(v4);
  private readonly visitRelay = (v4: number): boolean => this.relay.hasV4(v4);
  private readonly visitBuiltIn = (v4: number): boolean => {
    if (this.allow.hasV4(v4)) return false;
    this.embeddedReason = v4SpecialReason(v4);
    return this.embeddedReason !== undefined;
  };

  /**
   * `relayPortBound` says whether this relay holds a relay socket on a port:
   * its own address is another allocation only at a port that is one right
   * now, never at some other service of the host that listens in the range.
   * Without it no port counts as held (deny by default).
   */
  constructor(
    opts: PeerPolicyOptions,
    private readonly relayPortBound: (port: number) => boolean = () => false,
  ) {
    this.update(opts);
  }

  /** Replaces all lists at once (live reload). Throws CidrError on a bad entry, keeping the old lists. */
  update(opts: PeerPolicyOptions): void {
    // Fail safe with IPv4-mapped entries: a denied ::ffff:a.b.c.d/N denies that
    // IPv4 range in every spelling, while an allowed one only allows the mapped
    // spelling itself (allowing ::ffff:0:0/96 must not open all of IPv4).
    const allow = new CidrSet(opts.allowCIDRs, { mappedAsIPv4: false });
    const denyList = new CidrSet(opts.denyCIDRs, { mappedAsIPv4: true });
    const relay = new CidrSet(
      opts.relayAddresses.map((a) => {
        const c = parseCidr(a);
        if ((c.family === 4 && c.prefix !== 32) || (c.family === 6 && c.prefix !== 128)) {
          throw new Error(`relay address "${a}" must be a single address`);
        }
        return c;
      }),
    );
    this.allow = allow;
    this.denyList = denyList;
    this.relay = relay;
    this.portMin = opts.relayPortRange?.min ?? 1;
    this.portMax = opts.relayPortRange?.max ?? 0;
  }

  /**
   * Judges a peer. `port` is the peer port when known (ChannelBind, Send);
   * without it (CreatePermission) a relay address counts as allowed when a
   * relay port range is configured, because permissions are per IP and the
   * port is judged again when data is sent.
   */
  check(ip: string, port?: number): PeerVerdict {
    let end = ip.length;
    const v4 = parseIPv4Range(ip, 0, end);
    if (v4 !== -1) return this.checkV4(v4, port);
    let start = 0;
    if (end > 2 && ip.charCodeAt(0) === 91 /* [ */ && ip.charCodeAt(end - 1) === 93 /* ] */) {
      start = 1;
      end -= 1;
    }
    const percent = ip.indexOf('%', start);
    const hasZone = percent !== -1 && percent < end;
    if (hasZone && !isZoneId(ip.slice(percent + 1, end))) return deny('invalid');
    if (!parseIPv6Range(ip, start, hasZone ? percent : end, this.words)) return deny('invalid');
    const verdict = this.checkV6(this.words, port);
    // A zone id only makes sense for link-local scope, which is denied anyway;
    // on any other address it is malformed input.
    if (hasZone && verdict.allowed) return deny('invalid');
    return verdict;
  }

  /** Judges a peer given as raw address bytes (4 or 16, network order), as decoded from XOR-PEER-ADDRESS. */
  checkBytes(addr: Uint8Array, port?: number): PeerVerdict {
    if (addr.length === 4) return this.checkV4(readWord(addr, 0), port);
    if (addr.length !== 16) return deny('invalid');
    const w = this.words;
    w[0] = readWord(addr, 0);
    w[1] = readWord(addr, 4);
    w[2] = readWord(addr, 8);
    w[3] = readWord(addr, 12);
    return this.checkV6(w, port);
  }

  private relayPortOk(port: number | undefined): boolean {
    if (this.portMax < this.portMin) return false;
    if (port === undefined) return true;
    return port >= this.portMin && port <= this.portMax && this.relayPortBound(port);
  }

  private checkV4(v4: number, port: number | undefined): PeerVerdict {
    if (this.denyList.hasV4(v4)) return deny('denied-cidr');
    const allowed = this.allow.hasV4(v4);
    if (!allowed && this.relay.hasV4(v4)) {
      if (!this.relayPortOk(port)) return deny('relay-address');
      return ownRelayedVerdict(v4SpecialReason(v4));
    }
    if (allowed) return ALLOWED;
    const reason = v4SpecialReason(v4);
    return reason ? deny(reason) : ALLOWED;
  }

  private checkV6(w: IPv6Words, port: number | undefined): PeerVerdict {
    if (this.denyList.hasV6(w) || someEmbeddedIPv4(w, this.visitDenied)) return deny('denied-cidr');
    const allowed = this.allow.hasV6(w);
    const own = !allowed && this.relay.hasV6(w);
    if ((own || (!allowed && someEmbeddedIPv4(w, this.visitRelay))) && !this.relayPortOk(port))
      return deny('relay-address');
    this.embeddedReason = undefined;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- visitBuiltIn sets it during the call
    if (someEmbeddedIPv4(w, this.visitBuiltIn)) return deny(this.embeddedReason ?? 'invalid');
    if (own) return ownRelayedVerdict(v6SpecialReason(w));
    if (allowed) return ALLOWED;
    const reason = v6SpecialReason(w);
    return reason ? deny(reason) : ALLOWED;
  }
}
