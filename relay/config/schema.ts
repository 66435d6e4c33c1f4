// The relay's configuration file: rendered by the operator, read by the relay.
// Every object is strict (a misspelt key is an error, not a silently ignored
// setting) and every field has a safe default except the ones that identify
// the deployment (listeners, auth files, TLS files). Durations are seconds.
import { isIPv4, isIPv6, isIP } from 'node:net';
import { z } from 'zod';
import { CidrError, parseCidr } from '../policy/cidr.js';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);
const filePath = z.string().min(1, 'must be a non-empty file path');

const ipLiteral = z.string().refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address literal');
const ipv4Literal = z.string().refine((s) => isIPv4(s), 'must be an IPv4 address literal');
const ipv6Literal = z.string().refine((s) => isIPv6(s), 'must be an IPv6 address literal');

const cidr = z.string().superRefine((value, ctx) => {
  try {
    parseCidr(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof CidrError ? err.message : String(err) });
  }
});

export const ListenerSchema = z.strictObject({
  protocol: z.enum(['udp', 'tcp', 'tls']),
  host: ipLiteral.default('0.0.0.0'),
  port,
});

export const TlsSchema = z.strictObject({
  certFile: filePath,
  keyFile: filePath,
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
});

export const AuthSchema = z.strictObject({
  secretsFile: filePath.optional(),
  usersFile: filePath.optional(),
  nonceLifetimeSeconds: positiveInt.default(600),
  maxFailuresPerIp: positiveInt.default(20),
  failureWindowSeconds: positiveInt.default(60),
  // REST usernames whose expiry lies further ahead than this are refused (a
  // leaked signing secret or a mistyped TTL must not mint decade-long credentials).
  maxCredentialTTLSeconds: positiveInt.default(7 * 86400),
});

export const PortRangeSchema = z.strictObject({
  min: z.number().int().min(1).max(65535),
  max: z.number().int().min(1).max(65535),
});

export const RelaySocketsSchema = z.strictObject({
  host: ipv4Literal.default('0.0.0.0'),
  host6: ipv6Literal.optional(),
  externalAddress: ipv4Literal.optional(),
  externalAddress6: ipv6Literal.optional(),
  // One config serves every node of a HostNetwork relay: each pod advertises
  // the external address mapped to whichever internal address is its own
  // (nodes behind 1:1 NAT). An explicit externalAddress(6) wins.
  externalAddressMap: z.array(z.strictObject({ internal: ipLiteral, external: ipLiteral })).optional(),
  portRange: PortRangeSchema.prefault({ min: 49152, max: 65535 }),
  // Absent: the C++ plane (npm run build:native) when it is built, else the
  // JavaScript plane with a warning. 'native' insists (startup fails without
  // the addon); 'node' picks the JavaScript plane.
  dataPlane: z.enum(['node', 'native']).optional(),
  // Epoll threads of the native plane, each with its own SO_REUSEPORT client
  // socket; absent: the CPUs available to the process (affinity, cgroup quota).
  threads: positiveInt.max(1024).optional(),
  // Native plane: microseconds a thread pauses after a wakeup that relayed
  // without a backlog, so several datagrams share each system call at light
  // load (at most this much added delay per hop). Absent: 1000; 0: no pause.
  coalesceMicros: nonNegativeInt.max(10000).optional(),
});

export const PeersSchema = z.strictObject({
  allowCIDRs: z.array(cidr).default([]),
  denyCIDRs: z.array(cidr).default([]),
});

export const LimitsSchema = z.strictObject({
  maxAllocations: nonNegativeInt.default(10000),
  maxAllocationsPerUser: nonNegativeInt.default(10),
  maxPermissionsPerAllocation: positiveInt.default(64),
  maxChannelsPerAllocation: nonNegativeInt.max(16384).default(64), // 0x4000-0x7FFF is all there is
  defaultLifetimeSeconds: positiveInt.default(600),
  maxLifetimeSeconds: positiveInt.default(3600),
  maxBitrateKbps: nonNegativeInt.default(0),
  maxConnections: nonNegativeInt.default(10000),
  maxConnectionsPerIp: nonNegativeInt.default(200),
  connectionIdleTimeoutSeconds: positiveInt.default(120),
  // A TCP/TLS connection must deliver its first STUN message (TLS: after the
  // handshake) within this time, or it is closed.
  firstMessageTimeoutSeconds: positiveInt.default(10),
  // Answers to unauthenticated UDP requests per source address (/32, /64), bursts of twice that.
  unauthenticatedResponsesPerSecond: positiveInt.default(50),
  maxBufferedBytesPerConnection: z.number().int().min(4096).default(1048576),
  // Requests on a live allocation authenticate with its (possibly expired)
  // REST credential until the allocation is this old.
  maxAllocationAgeSeconds: positiveInt.default(86400),
});

export const AdminSchema = z.strictObject({
  // Loopback unless configured: metrics and probes are for the pod's own
  // network (the operator renders 0.0.0.0 explicitly for kubelet probes).
  host: ipLiteral.default('127.0.0.1'),
  port: port.default(9641),
});

export const MetricsSchema = z.strictObject({
  // Users with their own per-user traffic series (the K with the most bytes); everyone else is `other`. 0 turns them off.
  perUserTopK: nonNegativeInt.max(1000).default(10),
});

export const DrainSchema = z.strictObject({
  gracePeriodSeconds: nonNegativeInt.default(3600),
});

export const LogSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII');

export const RelayConfigSchema = z
  .strictObject({
    realm: printable(127).default('turnrelay'), // REALM is limited to 127 characters (RFC 8489)
    software: printable(127).default('turnrelay'),
    listeners: z.array(ListenerSchema).min(1, 'at least one listener is required'),
    tls: TlsSchema.optional(),
    auth: AuthSchema.prefault({}),
    relay: RelaySocketsSchema.prefault({}),
    peers: PeersSchema.prefault({}),
    limits: LimitsSchema.prefault({}),
    admin: AdminSchema.prefault({}),
    metrics: MetricsSchema.prefault({}),
    drain: DrainSchema.prefault({}),
    log: LogSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const hasTlsListener = cfg.listeners.some((l) => l.protocol === 'tls');
    if (hasTlsListener && !cfg.tls) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'required because a listener has protocol tls (set certFile and keyFile)',
      });
    }
    if (!hasTlsListener && cfg.tls) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'set, but no listener has protocol tls (remove it or add a tls listener)',
      });
    }
    if (!cfg.auth.secretsFile && !cfg.auth.usersFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'at least one of secretsFile or usersFile is required (the relay never runs unauthenticated)',
      });
    }
    if (cfg.relay.portRange.min > cfg.relay.portRange.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay', 'portRange'],
        message: `min (${cfg.relay.portRange.min}) must be <= max (${cfg.relay.portRange.max})`,
      });
    }
    if (cfg.limits.defaultLifetimeSeconds > cfg.limits.maxLifetimeSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'defaultLifetimeSeconds'],
        message: `must be <= limits.maxLifetimeSeconds (${cfg.limits.maxLifetimeSeconds})`,
      });
    }
    // tcp and tls share the TCP port space; udp has its own.
    const seen = new Map<string, number>();
    cfg.listeners.forEach((l, i) => {
      if (l.port === 0) return;
      const key = `${l.protocol === 'udp' ? 'udp' : 'tcp'} ${l.host} ${l.port}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i],
          message: `${l.protocol} ${l.host}:${l.port} clashes with listeners[${first}] (same host, port and transport)`,
        });
      } else {
        seen.set(key, i);
      }
    });
  });

export type RelayConfig = z.output<typeof RelayConfigSchema>;
export type RelayConfigInput = z.input<typeof RelayConfigSchema>;
export type ListenerConfig = RelayConfig['listeners'][number];
