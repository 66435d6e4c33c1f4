// The built-in deny list: every entry of the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890 and its updates), plus IPv4
// multicast and, for IPv6, everything outside 2000::/3 global unicast. A TURN
// relay has no business sending to any of them on a client's behalf, even the
// few marked "globally reachable" (anycast service and AS112 blocks): no
// WebRTC peer lives there. Labels are stable Prometheus label values.
//
// 64:ff9b::/96 (NAT64 well-known prefix) is the one special block that is not
// here: it is globally reachable and only as safe as the IPv4 it embeds, so
// the policy judges it by that IPv4 alone.

export const PEER_DENY_REASONS = [
  'invalid',
  'denied-cidr',
  'relay-address',
  'unspecified',
  'this-network',
  'loopback',
  'private',
  'cgnat',
  'link-local',
  'ietf-protocol',
  'documentation',
  'as112',
  'amt',
  '6to4-relay',
  'benchmarking',
  'multicast',
  'reserved',
  'broadcast',
  'ipv4-mapped',
  'nat64-local',
  'discard',
  'dummy',
  'teredo',
  'orchid',
  'drip',
  '6to4',
  'srv6',
  'unique-local',
  'site-local',
] as const;

export type PeerDenyReason = (typeof PEER_DENY_REASONS)[number];

export interface SpecialRange {
  cidr: string;
  reason: PeerDenyReason;
  name: string; // registry name, for docs and test output
}

export const IPV4_SPECIAL: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/32', reason: 'unspecified', name: 'Unspecified address' },
  { cidr: '0.0.0.0/8', reason: 'this-network', name: '"This network" (RFC 791)' },
  { cidr: '10.0.0.0/8', reason: 'private', name: 'Private-Use (RFC 1918)' },
  { cidr: '100.64.0.0/10', reason: 'cgnat', name: 'Shared Address Space (RFC 6598)' },
  { cidr: '127.0.0.0/8', reason: 'loopback', name: 'Loopback (RFC 1122)' },
  { cidr: '169.254.0.0/16', reason: 'link-local', name: 'Link Local, incl. cloud metadata 169.254.169.254 (RFC 3927)' },
  { cidr: '172.16.0.0/12', reason: 'private', name: 'Private-Use (RFC 1918)' },
  {
    cidr: '192.0.0.0/24',
    reason: 'ietf-protocol',
    name: 'IETF Protocol Assignments incl. DS-Lite, PCP/TURN anycast, NAT64 discovery (RFC 6890)',
  },
  { cidr: '192.0.2.0/24', reason: 'documentation', name: 'Documentation TEST-NET-1 (RFC 5737)' },
  { cidr: '192.31.196.0/24', reason: 'as112', name: 'AS112-v4 (RFC 7535)' },
  { cidr: '192.52.193.0/24', reason: 'amt', name: 'AMT (RFC 7450)' },
  { cidr: '192.88.99.0/24', reason: '6to4-relay', name: 'Deprecated 6to4 Relay Anycast (RFC 7526)' },
  { cidr: '192.168.0.0/16', reason: 'private', name: 'Private-Use (RFC 1918)' },
  { cidr: '192.175.48.0/24', reason: 'as112', name: 'Direct Delegation AS112 Service (RFC 7534)' },
  { cidr: '198.18.0.0/15', reason: 'benchmarking', name: 'Benchmarking (RFC 2544)' },
  { cidr: '198.51.100.0/24', reason: 'documentation', name: 'Documentation TEST-NET-2 (RFC 5737)' },
  { cidr: '203.0.113.0/24', reason: 'documentation', name: 'Documentation TEST-NET-3 (RFC 5737)' },
  { cidr: '224.0.0.0/4', reason: 'multicast', name: 'Multicast (RFC 5771)' },
  { cidr: '255.255.255.255/32', reason: 'broadcast', name: 'Limited Broadcast (RFC 919)' },
  { cidr: '240.0.0.0/4', reason: 'reserved', name: 'Reserved (RFC 1112)' },
];

export const IPV6_SPECIAL: readonly SpecialRange[] = [
  { cidr: '::/128', reason: 'unspecified', name: 'Unspecified Address (RFC 4291)' },
  { cidr: '::1/128', reason: 'loopback', name: 'Loopback Address (RFC 4291)' },
  { cidr: '::ffff:0:0/96', reason: 'ipv4-mapped', name: 'IPv4-mapped Address (RFC 4291)' },
  { cidr: '64:ff9b:1::/48', reason: 'nat64-local', name: 'IPv4-IPv6 Translat., local-use (RFC 8215)' },
  { cidr: '100::/64', reason: 'discard', name: 'Discard-Only Address Block (RFC 6666)' },
  { cidr: '100:0:0:1::/64', reason: 'dummy', name: 'Dummy IPv6 Prefix (RFC 9780)' },
  { cidr: '2001::/32', reason: 'teredo', name: 'TEREDO (RFC 4380)' },
  { cidr: '2001:1::1/128', reason: 'ietf-protocol', name: 'Port Control Protocol Anycast (RFC 7723)' },
  { cidr: '2001:1::2/128', reason: 'ietf-protocol', name: 'TURN Anycast (RFC 8155)' },
  { cidr: '2001:1::3/128', reason: 'ietf-protocol', name: 'DNS-SD Service Registration Protocol Anycast (RFC 9665)' },
  { cidr: '2001:2::/48', reason: 'benchmarking', name: 'Benchmarking (RFC 5180)' },
  { cidr: '2001:3::/32', reason: 'amt', name: 'AMT (RFC 7450)' },
  { cidr: '2001:4:112::/48', reason: 'as112', name: 'AS112-v6 (RFC 7535)' },
  { cidr: '2001:10::/28', reason: 'orchid', name: 'Deprecated ORCHID (RFC 4843)' },
  { cidr: '2001:20::/28', reason: 'orchid', name: 'ORCHIDv2 (RFC 7343)' },
  { cidr: '2001:30::/28', reason: 'drip', name: 'Drone Remote ID Protocol Entity Tags (RFC 9374)' },
  { cidr: '2001::/23', reason: 'ietf-protocol', name: 'IETF Protocol Assignments (RFC 2928)' },
  { cidr: '2001:db8::/32', reason: 'documentation', name: 'Documentation (RFC 3849)' },
  { cidr: '2002::/16', reason: '6to4', name: '6to4, deprecated relaying (RFC 3056, RFC 7526)' },
  { cidr: '2620:4f:8000::/48', reason: 'as112', name: 'Direct Delegation AS112 Service (RFC 7534)' },
  { cidr: '3fff::/20', reason: 'documentation', name: 'Documentation (RFC 9637)' },
  { cidr: '5f00::/16', reason: 'srv6', name: 'Segment Routing (SRv6) SIDs (RFC 9602)' },
  { cidr: 'fc00::/7', reason: 'unique-local', name: 'Unique-Local (RFC 4193)' },
  { cidr: 'fe80::/10', reason: 'link-local', name: 'Link-Local Unicast (RFC 4291)' },
  { cidr: 'fec0::/10', reason: 'site-local', name: 'Deprecated Site-Local (RFC 3879)' },
  { cidr: 'ff00::/8', reason: 'multicast', name: 'Multicast (RFC 4291)' },
];

/** The only IPv6 space that holds public unicast peers; the rest is 'reserved'. */
export const IPV6_GLOBAL_UNICAST = '2000::/3';
/** NAT64 well-known prefix: judged by its embedded IPv4 (see header). */
export const NAT64_WELL_KNOWN = '64:ff9b::/96';
