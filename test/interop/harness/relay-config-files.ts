// Writes everything our relay reads from disk for a test or benchmark: the
// config file (JSON, following relay/config/schema.ts), the static users
// file, the REST shared-secrets file and, for TLS listeners, a certificate.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSelfSignedCert } from './certs.js';

export type ListenerProtocol = 'udp' | 'tcp' | 'tls';

export interface RelayFilesOptions {
  dir: string;
  /** Loopback address every listener, relay socket and the admin port bind to. */
  host: string;
  listeners: readonly ListenerProtocol[];
  users?: Record<string, string>;
  secrets?: readonly string[];
  portRange: { min: number; max: number };
  /** Peers the test needs on loopback; everything else keeps the default deny. */
  allowCIDRs: readonly string[];
  limits?: Record<string, number>;
  /** The relay's metrics section (perUserTopK). */
  metrics?: Record<string, number>;
  /** Extra auth settings (limits, TTL caps) next to the files written here. */
  auth?: Record<string, number>;
  logLevel?: string;
  /** relay.dataPlane; absent = the relay's default (native when built). */
  dataPlane?: 'node' | 'native';
  /** relay.threads; absent = the CPUs available. */
  threads?: number;
  /** relay.coalesceMicros; absent = the relay's default. */
  coalesceMicros?: number;
}

export interface RelayFiles {
  configPath: string;
  /** The parsed-before-validation config object that was written. */
  config: Record<string, unknown>;
}

export async function writeRelayFiles(options: RelayFilesOptions): Promise<RelayFiles> {
  const auth: Record<string, string | number> = { ...options.auth };
  if (options.users) {
    const usersFile = join(options.dir, 'users');
    auth.usersFile = usersFile;
    const lines = Object.entries(options.users).map(([name, password]) => `${name}:${password}`);
    await writeFile(usersFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  if (options.secrets) {
    const secretsFile = join(options.dir, 'secrets');
    auth.secretsFile = secretsFile;
    await writeFile(secretsFile, `# newest first\n${options.secrets.join('\n')}\n`, { mode: 0o600 });
  }
  const config: Record<string, unknown> = {
    realm: 'interop.turnrelay.test',
    listeners: options.listeners.map((protocol) => ({ protocol, host: options.host, port: 0 })),
    auth,
    relay: {
      host: options.host,
      portRange: options.portRange,
      ...(options.dataPlane ? { dataPlane: options.dataPlane } : {}),
      ...(options.threads ? { threads: options.threads } : {}),
      ...(options.coalesceMicros !== undefined ? { coalesceMicros: options.coalesceMicros } : {}),
    },
    peers: { allowCIDRs: [...options.allowCIDRs], denyCIDRs: [] },
    admin: { host: options.host, port: 0 },
    // Stopping a test relay should not wait for its allocations to expire.
    drain: { gracePeriodSeconds: 0 },
    log: { level: options.logLevel ?? 'warn' },
  };
  if (options.limits) config.limits = options.limits;
  if (options.metrics) config.metrics = options.metrics;
  if (options.listeners.includes('tls')) config.tls = await makeSelfSignedCert(options.dir, { ip: options.host });
  const configPath = join(options.dir, 'relay.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  return { configPath, config };
}

/** A random address in 127.0.0.0/8 so parallel runs and captures never mix. */
export function randomLoopbackAddress(): string {
  const octet = () => 1 + Math.floor(Math.random() * 254);
  return `127.${octet()}.${octet()}.${octet()}`;
}
