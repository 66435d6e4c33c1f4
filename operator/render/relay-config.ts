// The relay's configuration file, derived from a TurnRelay. Field names follow
// the relay config contract (relay/config/schema.ts); paths are where the
// Deployment mounts the auth and TLS Secrets. The result is parsed by the
// relay's schema, so the operator never ships a config the relay rejects.
import { hostCidr } from '../api/cidr.js';
import { ADMIN_PORT } from '../api/constants.js';
import { durationSeconds } from '../api/duration.js';
import { RelayConfigSchema, type RelayConfig, type RelayConfigInput } from '../../relay/config/schema.js';
import { listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { externalRelayAddresses } from './addresses.js';
import type { Observed } from './observed.js';

export const CONFIG_DIR = '/etc/turnrelay';
export const CONFIG_FILE = 'config.yaml';
export const AUTH_DIR = '/auth';
export const TLS_DIR = '/tls';

export type { RelayConfig };

export function hasTlsListener(relay: TurnRelay): boolean {
  return relay.spec.listeners.some((l) => l.protocol === 'TLS');
}

/** Sorted, de-duplicated: the ConfigMap changes only when the set changes. */
function peerAllowList(relay: TurnRelay, allowedServiceIPs: string[]): string[] {
  const services = [...new Set(allowedServiceIPs)].sort().map(hostCidr);
  return [...new Set([...relay.spec.peers.allowCIDRs, ...services])];
}

/** The relay refuses REST usernames expiring further ahead than this. */
export function credentialTtlCap(ttlSeconds: number): number {
  return Math.max(2 * ttlSeconds, ttlSeconds + 3600);
}

export function renderRelayConfig(relay: TurnRelay, observed: Observed): RelayConfig {
  const { spec } = relay;
  const addresses = externalRelayAddresses(relay, observed);
  // Several nodes, one ConfigMap: each pod finds its own node in the map.
  const nodeMap =
    spec.network.mode === 'HostNetwork' && !addresses.externalAddress ? (observed.nodeAddressMap ?? []) : [];
  const maxLifetime = durationSeconds(spec.limits.maxLifetime);
  const config: RelayConfigInput = {
    realm: spec.realm,
    software: 'turnrelay',
    listeners: spec.listeners.map((l) => ({
      protocol: l.protocol.toLowerCase() as 'udp' | 'tcp' | 'tls',
      host: '0.0.0.0',
      port: listenerPort(l),
    })),
    // Static users come from the optional "users" key of the same Secret.
    auth: {
      secretsFile: `${AUTH_DIR}/secrets`,
      usersFile: `${AUTH_DIR}/users`,
      // Minted credentials live credentialTTL; twice that (at least an hour more) tolerates clock skew and slow rollouts.
      maxCredentialTTLSeconds: credentialTtlCap(durationSeconds(spec.auth.credentialTTL)),
    },
    relay: {
      host: '0.0.0.0',
      ...(addresses.externalAddress6 ? { host6: '::' } : {}),
      ...addresses,
      ...(nodeMap.length ? { externalAddressMap: nodeMap } : {}),
      portRange: { min: spec.network.relayPortRange.min, max: spec.network.relayPortRange.max },
      // Absent: the relay's default (the native plane, which the image ships).
      ...(spec.dataPlane ? { dataPlane: spec.dataPlane } : {}),
      ...(spec.coalesceMicroseconds !== undefined ? { coalesceMicros: spec.coalesceMicroseconds } : {}),
    },
    peers: { allowCIDRs: peerAllowList(relay, observed.allowedServiceIPs), denyCIDRs: [...spec.peers.denyCIDRs] },
    limits: {
      maxAllocations: spec.limits.maxAllocations,
      maxAllocationsPerUser: spec.limits.maxAllocationsPerUser,
      maxBitrateKbps: spec.limits.maxBitrateKbps,
      maxConnections: spec.limits.maxConnections,
      maxConnectionsPerIp: spec.limits.maxConnectionsPerIp,
      maxLifetimeSeconds: maxLifetime,
      // RFC 8656's 10-minute default, capped by a shorter maximum.
      defaultLifetimeSeconds: Math.min(600, maxLifetime),
      maxAllocationAgeSeconds: durationSeconds(spec.limits.maxAllocationAge),
    },
    // The relay defaults to loopback; kubelet probes and Prometheus reach the pod address.
    admin: { host: '0.0.0.0', port: ADMIN_PORT },
    metrics: { perUserTopK: spec.monitoring.perUserTopK },
    drain: { gracePeriodSeconds: durationSeconds(spec.drain.gracePeriod) },
    log: { level: spec.logLevel },
  };
  if (hasTlsListener(relay) && spec.tls) {
    config.tls = { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, minVersion: spec.tls.minVersion };
  }
  // The relay's own schema fills its defaults and proves the output loadable.
  const parsed = RelayConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`rendered relay config is invalid: ${issues}`);
  }
  return parsed.data;
}

/**
 * The part of the config the relay cannot apply live (bound sockets). Its hash
 * goes on the pod template, so only such changes roll the pods.
 */
export function restartRelevantConfig(config: RelayConfig): unknown {
  return {
    listeners: config.listeners,
    admin: config.admin,
    host: config.relay.host,
    host6: config.relay.host6 ?? null,
    // Only when set, so relays that never chose keep the hash they had.
    ...(config.relay.dataPlane ? { dataPlane: config.relay.dataPlane } : {}),
    ...(config.relay.coalesceMicros !== undefined ? { coalesceMicros: config.relay.coalesceMicros } : {}),
  };
}
