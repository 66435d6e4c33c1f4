// The relay's configuration file, derived from a TurnRelay. Field names follow
// the relay config contract (relay/config/schema.ts); paths are where the
// Deployment mounts the auth and TLS Secrets.
import { hostCidr } from '../api/cidr.js';
import { ADMIN_PORT } from '../api/constants.js';
import { parseDurationSeconds } from '../api/duration.js';
import { listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { externalRelayAddresses } from './addresses.js';
import type { Observed } from './observed.js';

export const CONFIG_DIR = '/etc/turnrelay';
export const CONFIG_FILE = 'config.yaml';
export const AUTH_DIR = '/auth';
export const TLS_DIR = '/tls';

export type RelayConfig = {
  realm: string;
  software: string;
  listeners: Array<{ protocol: 'udp' | 'tcp' | 'tls'; host: string; port: number }>;
  tls?: { certFile: string; keyFile: string; minVersion: 'TLSv1.2' | 'TLSv1.3' };
  auth: { secretsFile: string; usersFile?: string };
  relay: {
    host: string;
    host6?: string;
    externalAddress?: string;
    externalAddress6?: string;
    portRange: { min: number; max: number };
  };
  peers: { allowCIDRs: string[]; denyCIDRs: string[] };
  limits: {
    maxAllocations: number;
    maxAllocationsPerUser: number;
    maxBitrateKbps: number;
    maxConnections: number;
    maxConnectionsPerIp: number;
    maxLifetimeSeconds: number;
    defaultLifetimeSeconds: number;
  };
  admin: { host: string; port: number };
  drain: { gracePeriodSeconds: number };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
};

export function hasTlsListener(relay: TurnRelay): boolean {
  return relay.spec.listeners.some((l) => l.protocol === 'TLS');
}

/** Sorted, de-duplicated: the ConfigMap changes only when the set changes. */
function peerAllowList(relay: TurnRelay, allowedServiceIPs: string[]): string[] {
  const services = [...new Set(allowedServiceIPs)].sort().map(hostCidr);
  return [...new Set([...relay.spec.peers.allowCIDRs, ...services])];
}

export function renderRelayConfig(relay: TurnRelay, observed: Observed): RelayConfig {
  const { spec } = relay;
  const addresses = externalRelayAddresses(relay, observed);
  const maxLifetime = parseDurationSeconds(spec.limits.maxLifetime);
  const config: RelayConfig = {
    realm: spec.realm,
    software: 'turnrelay',
    listeners: spec.listeners.map((l) => ({
      protocol: l.protocol.toLowerCase() as 'udp' | 'tcp' | 'tls',
      host: '0.0.0.0',
      port: listenerPort(l),
    })),
    // Static users come from the optional "users" key of the same Secret.
    auth: { secretsFile: `${AUTH_DIR}/secrets`, usersFile: `${AUTH_DIR}/users` },
    relay: {
      host: '0.0.0.0',
      ...(addresses.externalAddress6 ? { host6: '::' } : {}),
      ...addresses,
      portRange: { min: spec.network.relayPortRange.min, max: spec.network.relayPortRange.max },
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
    },
    admin: { host: '0.0.0.0', port: ADMIN_PORT },
    drain: { gracePeriodSeconds: parseDurationSeconds(spec.drain.gracePeriod) },
    log: { level: spec.logLevel },
  };
  if (hasTlsListener(relay) && spec.tls) {
    config.tls = { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, minVersion: spec.tls.minVersion };
  }
  return config;
}

/**
 * The part of the config the relay cannot apply live (bound sockets). Its hash
 * goes on the pod template, so only such changes roll the pods.
 */
export function restartRelevantConfig(config: RelayConfig): unknown {
  return { listeners: config.listeners, admin: config.admin, host: config.relay.host, host6: config.relay.host6 ?? null };
}
