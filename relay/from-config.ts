// What the relay builds from its config file, the same way at startup and on
// every reload: the peer policy's inputs, the TLS key pair, the nonce issuer,
// the auth failure limiter, and the credentials from the auth files.
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { RelayConfig } from './config/schema.js';
import type { CredentialStore } from './auth/credential-store.js';
import { NonceIssuer } from './auth/nonce.js';
import { AuthFailureLimiter } from './auth/failure-limiter.js';
import type { AuthFiles } from './auth/load-auth-files.js';
import type { PeerPolicyOptions } from './policy/peer-policy.js';
import { isUnspecified } from './server/advertised-address.js';
import type { TlsMaterial } from './transport/stream-listener.js';

/** Every address the relay can be reached on: peers there would loop back into the relay. */
function relayAddresses(config: RelayConfig): string[] {
  const out = new Set<string>();
  const hosts = [config.relay.host, config.relay.host6, ...config.listeners.map((l) => l.host)].filter(
    (h): h is string => !!h,
  );
  for (const h of hosts) if (!isUnspecified(h)) out.add(h);
  if (hosts.some(isUnspecified)) {
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) if (!i.address.includes('%')) out.add(i.address);
  }
  if (config.relay.externalAddress) out.add(config.relay.externalAddress);
  if (config.relay.externalAddress6) out.add(config.relay.externalAddress6);
  return [...out];
}

export function policyOptions(config: RelayConfig): PeerPolicyOptions {
  return {
    allowCIDRs: config.peers.allowCIDRs,
    denyCIDRs: config.peers.denyCIDRs,
    relayAddresses: relayAddresses(config),
    relayPortRange: config.relay.portRange,
  };
}

export async function readTls(config: RelayConfig): Promise<TlsMaterial | undefined> {
  if (!config.tls) return undefined;
  const [cert, key] = await Promise.all([readFile(config.tls.certFile), readFile(config.tls.keyFile)]);
  return { cert, key, minVersion: config.tls.minVersion };
}

export function nonceIssuer(auth: RelayConfig['auth']): NonceIssuer {
  return new NonceIssuer({ lifetimeMs: auth.nonceLifetimeSeconds * 1000 });
}

export function failureLimiter(auth: RelayConfig['auth']): AuthFailureLimiter {
  return new AuthFailureLimiter({ maxFailures: auth.maxFailuresPerIp, windowMs: auth.failureWindowSeconds * 1000 });
}

export function applyAuthFiles(store: CredentialStore, files: AuthFiles): void {
  store.setSecrets(files.secrets);
  store.setUsers(files.users);
}
