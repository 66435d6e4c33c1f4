import fc from 'fast-check';
import { PeerPolicy, PEER_DENY_REASONS, type PeerDenyReason } from '../../../relay/policy/peer-policy.js';
import { IPV4_SPECIAL, IPV6_SPECIAL } from '../../../relay/policy/special-purpose.js';
import { parseCidr } from '../../../relay/policy/cidr.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6Range } from '../../../relay/policy/ip-address.js';
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

const defaults = () => new PeerPolicy({ allowCIDRs: [], denyCIDRs: [], relayAddresses: [] });

function expectDenied(policy: PeerPolicy, ip: string, reason: PeerDenyReason): void {
  expect({ ip, verdict: policy.check(ip) }).toEqual({ ip, verdict: { allowed: false, reason } });
}

// First, a middle and the last address of a range, so every entry is exercised at both edges.
function samples(cidr: string): string[] {
  const c = parseCidr(cidr, { mappedAsIPv4: false });
  if (c.family === 4) {
    const last = (c.base | ~c.mask) >>> 0;
    return [...new Set([c.base, (c.base | (~c.mask & 0x5a5a5a5a)) >>> 0, last])].map(formatIPv4);
  }
  const fill = (pattern: number) =>
    c.base.map((b, i) => (b | (~(c.mask[i] as number) & pattern)) >>> 0) as unknown as readonly [
      number,
      number,
      number,
      number,
    ];
  return [...new Set([formatIPv6(c.base), formatIPv6(fill(0x5a5a5a5a)), formatIPv6(fill(0xffffffff))])];
}

describe('built-in deny list covers every IANA special-purpose entry', () => {
  const policy = defaults();
  test.each(IPV4_SPECIAL.map((r) => [r.cidr, r.reason, r.name] as const))('IPv4 %s -> %s (%s)', (cidr, reason) => {
    for (const ip of samples(cidr)) {
      const verdict = policy.check(ip);
      expect({ ip, allowed: verdict.allowed }).toEqual({ ip, allowed: false });
      // A more specific entry may report a narrower label (0.0.0.0/32 inside 0.0.0.0/8).
      if (!verdict.allowed && ip === samples(cidr)[1] && cidr !== '0.0.0.0/8') expect(verdict.reason).toBe(reason);
    }
  });
  test.each(IPV6_SPECIAL.map((r) => [r.cidr, r.reason, r.name] as const))('IPv6 %s -> %s (%s)', (cidr) => {
    for (const ip of samples(cidr)) expect({ ip, allowed: policy.check(ip).allowed }).toEqual({ ip, allowed: false });
  });

  test.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this-network'],
    ['10.0.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.9', 'ietf-protocol'],
    ['192.0.0.170', 'ietf-protocol'],
    ['192.0.2.1', 'documentation'],
    ['192.31.196.1', 'as112'],
    ['192.52.193.1', 'amt'],
    ['192.88.99.1', '6to4-relay'],
    ['192.168.1.1', 'private'],
    ['192.175.48.6', 'as112'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.7', 'documentation'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['64:ff9b:1::808:808', 'nat64-local'],
    ['100::1', 'discard'],
    ['100:0:0:1::1', 'dummy'],
    ['2001:0:808:808::f7f7:f7f7', 'teredo'],
    ['2001:1::1', 'ietf-protocol'],
    ['2001:1::2', 'ietf-protocol'],
    ['2001:1::3', 'ietf-protocol'],
    ['2001:2::1', 'benchmarking'],
    ['2001:3::1', 'amt'],
    ['2001:4:112::1', 'as112'],
    ['2001:10::1', 'orchid'],
    ['2001:20::1', 'orchid'],
    ['2001:30::1', 'drip'],
    ['2001:1ff::1', 'ietf-protocol'],
    ['2001:db8::1', 'documentation'],
    ['2002:808:808::1', '6to4'],
    ['2620:4f:8000::1', 'as112'],
    ['3fff::1', 'documentation'],
    ['3fff:fff::1', 'documentation'],
    ['5f00::1', 'srv6'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    // outside 2000::/3 global unicast
    ['4000::1', 'reserved'],
    ['1::1', 'reserved'],
    ['8000::1', 'reserved'],
    ['e000::1', 'reserved'],
    ['::1:0:0:0', 'reserved'],
  ] as const)('%s -> %s', (ip, reason) => expectDenied(defaults(), ip, reason));
});

describe('IPv6 forms embedding a denied IPv4 are denied as that IPv4', () => {
  test.each([
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::FFFF:A9FE:A9FE', 'link-local'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::127.0.0.1', 'loopback'],
    ['::a9fe:a9fe', 'link-local'],
    ['::192.168.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:FF9B::0A00:0001', 'private'],
    ['64:ff9b:1::a9fe:a9fe', 'link-local'], // local-use, /96 layout
    ['64:ff9b:1:a9fe:a9:fe00::', 'link-local'], // local-use, /48 layout (u octet skipped)
    ['64:ff9b:1:a9:fe:a9fe::', 'link-local'], // local-use, /56 layout
    ['64:ff9b:1:0:a9:fea9:fe00:0', 'link-local'], // local-use, /64 layout
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::42', 'private'],
    // Teredo: client IPv4 is the bitwise NOT of the last 32 bits (169.254.169.254 -> 5601:5601).
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'link-local'],
    ['2001:0000:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    // Teredo with a denied server address
    ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'private'],
  ] as const)('%s -> %s', (ip, reason) => expectDenied(defaults(), ip, reason));

  test('embedded IPv4 is judged even when the IPv6 block itself is explicitly allowed', () => {
    const policy = new PeerPolicy({
      allowCIDRs: ['2002::/16', '2001::/32', '64:ff9b:1::/48', '::ffff:0:0/96'],
      denyCIDRs: [],
      relayAddresses: [],
    });
    expectDenied(policy, '2002:a9fe:a9fe::', 'link-local');
    expectDenied(policy, '2001:0:4136:e378:8000:63bf:5601:5601', 'link-local');
    expectDenied(policy, '64:ff9b:1::a9fe:a9fe', 'link-local');
    expect(policy.check('2002:808:808::1')).toEqual({ allowed: true });
    expect(policy.check('2001:0:4136:e378:8000:63bf:f7f7:f7f7')).toEqual({ allowed: true }); // client 8.8.8.8
    expect(policy.check('64:ff9b:1::808:808')).toEqual({ allowed: true });
    expect(policy.check('::ffff:8.8.8.8')).toEqual({ allowed: true });
    expectDenied(policy, '::ffff:10.0.0.1', 'private');
    expectDenied(policy, '10.0.0.1', 'private'); // allowing the mapped block does not open IPv4
  });
});

describe('allowed peers', () => {
  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    '2001:4860:4860::8888',
    '64:ff9b::808:808',
    '64:ff9b::8.8.8.8',
    '2001:200::1',
    '[2606:4700::1111]',
  ])('%s', (ip) => {
    expect(defaults().check(ip)).toEqual({ allowed: true });
  });
});

describe('invalid input is denied as invalid, never thrown', () => {
  test.each([
    '',
    'localhost',
    '127.1',
    '0x7f.0.0.1',
    '0177.0.0.1',
    '127.000.000.001',
    '2130706433',
    '1.2.3.4.5',
    '256.0.0.1',
    '1.2.3',
    ' 8.8.8.8',
    '8.8.8.8 ',
    '8.8.8.8/32',
    ':::1',
    '1::2::3',
    '2606:4700::1111%',
    'g::1',
    '::ffff:127.1',
    '[::1',
    '2606:4700::1111%eth0',
  ])('%j', (ip) => expectDenied(defaults(), ip, 'invalid'));

  test('zone ids do not hide a denied scope', () => {
    expectDenied(defaults(), 'fe80::1%eth0', 'link-local');
    expectDenied(defaults(), 'FE80::1%25', 'link-local');
  });

  test('check() never throws and always returns a known verdict', () => {
    const policy = new PeerPolicy({
      allowCIDRs: ['10.0.0.0/8'],
      denyCIDRs: ['8.8.4.0/24'],
      relayAddresses: ['203.0.113.7'],
    });
    const ipish = fc.oneof(
      fc.string(),
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.tuple(fc.ipV6(), fc.string()).map(([a, z]) => `${a}%${z}`),
      fc
        .uint8Array({ minLength: 16, maxLength: 16 })
        .map((b) => formatIPv6([0, 1, 2, 3].map((i) => Buffer.from(b).readUInt32BE(i * 4)) as never)),
    );
    fc.assert(
      fc.property(ipish, fc.option(fc.integer({ min: -1, max: 70000 }), { nil: undefined }), (ip, port) => {
        const v = policy.check(ip, port);
        expect(v.allowed || (PEER_DENY_REASONS as readonly string[]).includes(v.reason)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  test('checkBytes agrees with check on random addresses', () => {
    const policy = new PeerPolicy({ allowCIDRs: [], denyCIDRs: [], relayAddresses: [] });
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })),
        (bytes) => {
          const b = Buffer.from(bytes);
          const text =
            b.length === 4
              ? formatIPv4(b.readUInt32BE(0))
              : formatIPv6([0, 1, 2, 3].map((i) => b.readUInt32BE(i * 4)) as never);
          expect(policy.checkBytes(b)).toEqual(policy.check(text));
        },
      ),
      { numRuns: 5000 },
    );
    expect(policy.checkBytes(new Uint8Array(5))).toEqual({ allowed: false, reason: 'invalid' });
  });
});

describe('explicit lists', () => {
  test('allowCIDRs override the built-in denies', () => {
    const policy = new PeerPolicy({
      allowCIDRs: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::1/128'],
      denyCIDRs: [],
      relayAddresses: [],
    });
    for (const ip of ['10.1.2.3', '127.0.0.1', 'fd00::5', '::1']) expect(policy.check(ip)).toEqual({ allowed: true });
    expectDenied(policy, '127.0.0.2', 'loopback');
    expectDenied(policy, '192.168.0.1', 'private');
    // The mapped form of an allowed IPv4 is still an IPv4-mapped address (wrong family for a relay).
    expectDenied(policy, '::ffff:10.1.2.3', 'ipv4-mapped');
  });

  test('denyCIDRs always win, in every spelling', () => {
    const policy = new PeerPolicy({
      allowCIDRs: ['10.0.0.0/8', '8.0.0.0/8', '::ffff:0:0/96'],
      denyCIDRs: ['10.9.0.0/16', '8.8.8.8', '2606:4700::/32'],
      relayAddresses: [],
    });
    expectDenied(policy, '10.9.1.1', 'denied-cidr');
    expectDenied(policy, '8.8.8.8', 'denied-cidr');
    expectDenied(policy, '::ffff:8.8.8.8', 'denied-cidr');
    expectDenied(policy, '64:ff9b::808:808', 'denied-cidr');
    expectDenied(policy, '2002:808:808::', 'denied-cidr');
    expectDenied(policy, '2606:4700::1111', 'denied-cidr');
    expect(policy.check('10.8.1.1')).toEqual({ allowed: true });
    expect(policy.check('8.8.4.4')).toEqual({ allowed: true });
  });

  test('IPv4-mapped CIDRs in the lists mean their IPv4 range', () => {
    const policy = new PeerPolicy({ allowCIDRs: [], denyCIDRs: ['::ffff:1.1.1.0/120'], relayAddresses: [] });
    expectDenied(policy, '1.1.1.1', 'denied-cidr');
    expect(policy.check('1.1.2.1')).toEqual({ allowed: true });
  });

  test('bad CIDRs are rejected by update() and the old lists keep working', () => {
    const policy = new PeerPolicy({ allowCIDRs: [], denyCIDRs: ['8.8.8.8'], relayAddresses: [] });
    expect(() => policy.update({ allowCIDRs: ['10.0.0.0/33'], denyCIDRs: [], relayAddresses: [] })).toThrow(
      /prefix length/,
    );
    expect(() => policy.update({ allowCIDRs: ['nope'], denyCIDRs: [], relayAddresses: [] })).toThrow(
      /invalid CIDR "nope"/,
    );
    expectDenied(policy, '8.8.8.8', 'denied-cidr');
    policy.update({ allowCIDRs: [], denyCIDRs: [], relayAddresses: [] });
    expect(policy.check('8.8.8.8')).toEqual({ allowed: true });
  });
});

describe("the relay's own addresses", () => {
  /**
   * A policy that knows the relay's own addresses and its relay port range
   * 49152-65535, with every port of the range held by an allocation unless
   * `relayPortBound` says otherwise.
   */
  const atRelayPorts = (
    relayAddresses: string[],
    lists: { allowCIDRs?: string[]; denyCIDRs?: string[] } = {},
    relayPortBound: (port: number) => boolean = () => true,
  ) =>
    new PeerPolicy(
      { allowCIDRs: [], denyCIDRs: [], relayAddresses, relayPortRange: { min: 49152, max: 65535 }, ...lists },
      relayPortBound,
    );

  test('are denied in every spelling when no relay port range is known', () => {
    const policy = new PeerPolicy({ allowCIDRs: [], denyCIDRs: [], relayAddresses: ['1.2.3.4', '2606:4700::7'] });
    expectDenied(policy, '1.2.3.4', 'relay-address');
    expectDenied(policy, '2606:4700::7', 'relay-address');
    expectDenied(policy, '::ffff:1.2.3.4', 'relay-address');
    expectDenied(policy, '64:ff9b::102:304', 'relay-address');
    expect(policy.check('1.2.3.5')).toEqual({ allowed: true });
  });

  test('are allowed only at relay ports (another allocation on this relay), never at listener or admin ports', () => {
    const policy = atRelayPorts(['1.2.3.4', '2606:4700::7']);
    for (const port of [3478, 5349, 9641, 22, 49151]) {
      expect(policy.check('1.2.3.4', port)).toEqual({ allowed: false, reason: 'relay-address' });
      expect(policy.check('2606:4700::7', port)).toEqual({ allowed: false, reason: 'relay-address' });
    }
    for (const port of [49152, 50000, 65535]) {
      expect(policy.check('1.2.3.4', port)).toEqual({ allowed: true });
      expect(policy.check('2606:4700::7', port)).toEqual({ allowed: true });
    }
    // Permissions carry no port; data to that peer is judged per port later.
    expect(policy.check('1.2.3.4')).toEqual({ allowed: true });
  });

  test('only at a relay port this relay holds now: another service of the host in the range is refused', () => {
    const bound = new Set([50000]);
    const policy = atRelayPorts(['10.0.0.5', '1.2.3.4'], {}, (port) => bound.has(port));
    expect(policy.check('10.0.0.5', 50000)).toEqual({ allowed: true });
    expect(policy.check('1.2.3.4', 50000)).toEqual({ allowed: true });
    expect(policy.check('10.0.0.5', 51820)).toEqual({ allowed: false, reason: 'relay-address' });
    expect(policy.check('1.2.3.4', 51820)).toEqual({ allowed: false, reason: 'relay-address' });
    bound.delete(50000); // the allocation ended
    expect(policy.check('10.0.0.5', 50000)).toEqual({ allowed: false, reason: 'relay-address' });
  });

  test('a private relay address (a pod IP) is another allocation at relay ports and refused elsewhere', () => {
    const policy = atRelayPorts(['10.0.0.5', 'fd00::5']);
    expect(policy.check('10.0.0.5', 50000)).toEqual({ allowed: true });
    expect(policy.check('10.0.0.5')).toEqual({ allowed: true });
    expect(policy.check('fd00::5', 50000)).toEqual({ allowed: true });
    expect(policy.check('10.0.0.5', 3478)).toEqual({ allowed: false, reason: 'relay-address' });
    expect(policy.check('fd00::5', 9641)).toEqual({ allowed: false, reason: 'relay-address' });
    // Its neighbours are still private, and its IPv4-mapped spelling still judged by the IPv4 rules.
    expect(policy.check('10.0.0.6', 50000)).toEqual({ allowed: false, reason: 'private' });
    expect(policy.check('::ffff:10.0.0.5', 50000).allowed).toBe(false);
    // Loopback and link-local stay refused even as the relay's own addresses.
    const local = atRelayPorts(['127.0.0.1', '::1', 'fe80::1', '169.254.0.9']);
    expect(local.check('127.0.0.1', 50000)).toEqual({ allowed: false, reason: 'loopback' });
    expect(local.check('::1', 50000)).toEqual({ allowed: false, reason: 'loopback' });
    expect(local.check('fe80::1', 50000)).toEqual({ allowed: false, reason: 'link-local' });
    expect(local.check('169.254.0.9', 50000)).toEqual({ allowed: false, reason: 'link-local' });
    // denyCIDRs still wins.
    const denied = atRelayPorts(['10.0.0.5'], { denyCIDRs: ['10.0.0.0/24'] });
    expect(denied.check('10.0.0.5', 50000)).toEqual({ allowed: false, reason: 'denied-cidr' });
  });

  test('an explicit allowCIDRs entry covers the relay address (development on loopback)', () => {
    const policy = atRelayPorts(['127.0.0.1'], { allowCIDRs: ['127.0.0.0/8'] });
    expect(policy.check('127.0.0.1', 3480)).toEqual({ allowed: true });
  });

  test('relay addresses must be single addresses', () => {
    expect(() => new PeerPolicy({ allowCIDRs: [], denyCIDRs: [], relayAddresses: ['10.0.0.0/8'] })).toThrow(
      /single address/,
    );
  });
});

describe('address parser', () => {
  // Strings built from IPv6-ish pieces, so most are near-valid.
  const ipv6ish = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          ':',
          '::',
          '.',
          '%',
          'ffff',
          '0',
          '00000',
          'FfFf',
          '1.2.3.4',
          '255.255.255.255',
          '01.2.3.4',
          '64:ff9b',
          'g',
        ),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 5 }),
      ),
      { maxLength: 12 },
    )
    .map((p) => p.join(''));

  // Oracle for the value: the WHATWG URL parser prints IPv6 hosts canonically
  // in plain hex groups. (ipaddr.js is not one: it reads ::a.b.c.d as ::ffff:a.b.c.d.)
  function wordsViaUrl(text: string): number[] {
    const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    const [head, tail] = host.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const g = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((x) => parseInt(x, 16));
    return [0, 2, 4, 6].map((i) => (g[i] as number) * 65536 + (g[i + 1] as number));
  }

  test('ipaddr.js quirk that made us parse ourselves', () => {
    expect(ipaddr.IPv6.parse('::127.0.0.1').parts[5]).toBe(0xffff);
    const out = [0, 0, 0, 0];
    expect(parseIPv6Range('::127.0.0.1', 0, 11, out)).toBe(true);
    expect(out).toEqual([0, 0, 0, 0x7f000001]);
  });

  test('accepts exactly what the platform inet_pton accepts, with the same value as the URL parser', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6ish, fc.ipV6(), fc.string({ maxLength: 50 })), (text) => {
        if (text.includes('%')) return; // zones are handled by the caller
        const out = [0, 0, 0, 0];
        const ok = parseIPv6Range(text, 0, text.length, out);
        expect({ text, ok }).toEqual({ text, ok: isIPv6(text) });
        if (ok) {
          expect(out).toEqual(wordsViaUrl(text));
        }
      }),
      { numRuns: 10_000 },
    );
  });

  test('IPv4: canonical dotted quads only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.string({ maxLength: 16 })), (text) => {
        const v4 = parseIPv4(text);
        const canonical = isIPv4(text) && text.split('.').every((o) => o === String(Number(o)));
        expect({ text, ok: v4 !== -1 }).toEqual({ text, ok: canonical });
        if (canonical) expect(formatIPv4(v4)).toBe(text);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('agrees with a naive oracle built on ipaddr.js range matching', () => {
  const policy = defaults();
  const longest = (ranges: typeof IPV4_SPECIAL, addr: ipaddr.IPv4 | ipaddr.IPv6) => {
    let best: { prefix: number; reason: PeerDenyReason } | undefined;
    for (const r of ranges) {
      const [base, prefix] = ipaddr.parseCIDR(r.cidr);
      if (base.kind() === addr.kind() && addr.match([base, prefix] as never) && (!best || prefix > best.prefix))
        best = { prefix, reason: r.reason };
    }
    return best?.reason;
  };
  // Random host bits inside a random special range (plus fully random addresses).
  const inRange = (ranges: typeof IPV4_SPECIAL, bytes: number) =>
    fc.tuple(fc.nat(ranges.length - 1), fc.uint8Array({ minLength: bytes, maxLength: bytes })).map(([i, rnd]) => {
      const c = parseCidr((ranges[i] as { cidr: string }).cidr, { mappedAsIPv4: false });
      const out = Buffer.from(rnd);
      const base = c.family === 4 ? [c.base] : c.base;
      const mask = c.family === 4 ? [c.mask] : c.mask;
      base.forEach((b, w) => out.writeUInt32BE((b | (out.readUInt32BE(w * 4) & ~(mask[w] as number))) >>> 0, w * 4));
      return out;
    });

  test('IPv4', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          inRange(IPV4_SPECIAL, 4),
          fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b)),
        ),
        (b) => {
          const text = formatIPv4(b.readUInt32BE(0));
          const reason = longest(IPV4_SPECIAL, ipaddr.IPv4.parse(text));
          expect(policy.check(text)).toEqual(reason ? { allowed: false, reason } : { allowed: true });
        },
      ),
      { numRuns: 10_000 },
    );
  });

  test('IPv6 without embedded IPv4', () => {
    const embeds = ['::/96', '::ffff:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '2002::/16', '2001::/32'].map((c) =>
      ipaddr.parseCIDR(c),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          inRange(IPV6_SPECIAL, 16),
          fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
        ),
        (b) => {
          const addr = ipaddr.fromByteArray([...b]) as ipaddr.IPv6;
          fc.pre(!embeds.some((r) => addr.match(r)));
          const text = addr.toString();
          const reason =
            longest(IPV6_SPECIAL, addr) ?? (addr.match(ipaddr.parseCIDR('2000::/3')) ? undefined : 'reserved');
          expect(policy.check(text)).toEqual(reason ? { allowed: false, reason } : { allowed: true });
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('ISATAP interface identifiers carry their IPv4', () => {
  test.each([
    '2001:db8::5efe:169.254.169.254',
    '2001:db8::200:5efe:10.0.0.1',
    'fe80::5efe:127.0.0.1',
    '2606:4700::200:5efe:192.168.1.1',
  ])('%s is judged as its embedded IPv4 and denied', (ip) => {
    expect(defaults().check(ip).allowed).toBe(false);
  });

  test('an ISATAP identifier with a public IPv4 under a global prefix stays allowed', () => {
    expect(defaults().check('2606:4700::5efe:8.8.8.8').allowed).toBe(true);
  });
});
