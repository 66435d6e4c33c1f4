// coturn's turnserver on loopback: the performance baseline for bench/ and a
// reference target when developing the interop harness.
import { join } from 'node:path';
import type { ChildSet, StartedChild } from './children.js';
import { freeUdpTcpPort } from './ports.js';
import { waitForStunBinding } from './stun-probe.js';
import { requireTools } from './tools.js';

export interface CoturnOptions {
  dir: string;
  host: string;
  realm: string;
  portRange: { min: number; max: number };
  /** Long-term users; ignored by coturn when restSecret is set. */
  users?: Record<string, string>;
  restSecret?: string;
  tls?: { certFile: string; keyFile: string };
  /** coturn --relay-threads (absent: coturn's default, one per CPU). */
  relayThreads?: number;
}

export interface CoturnServer {
  child: StartedChild;
  host: string;
  port: number;
  tlsPort: number | undefined;
}

export async function startCoturn(children: ChildSet, options: CoturnOptions): Promise<CoturnServer> {
  const tools = requireTools(['turnserver']);
  const port = await freeUdpTcpPort(options.host);
  const tlsPort = options.tls ? await freeUdpTcpPort(options.host) : undefined;
  const args = [
    '-n',
    '--no-cli',
    '--simple-log',
    '--log-file=stdout',
    '--no-dtls',
    '--no-multicast-peers',
    `--listening-ip=${options.host}`,
    `--listening-port=${port}`,
    `--relay-ip=${options.host}`,
    `--min-port=${options.portRange.min}`,
    `--max-port=${options.portRange.max}`,
    `--realm=${options.realm}`,
    `--userdb=${join(options.dir, 'turndb')}`,
    `--pidfile=${join(options.dir, 'turnserver.pid')}`,
    '--allow-loopback-peers',
    '--fingerprint',
  ];
  if (options.restSecret) args.push('--use-auth-secret', `--static-auth-secret=${options.restSecret}`);
  else {
    args.push('--lt-cred-mech');
    for (const [name, password] of Object.entries(options.users ?? {})) args.push(`--user=${name}:${password}`);
  }
  if (options.tls)
    args.push(`--tls-listening-port=${tlsPort}`, `--cert=${options.tls.certFile}`, `--pkey=${options.tls.keyFile}`);
  else args.push('--no-tls');
  if (options.relayThreads) args.push(`--relay-threads=${options.relayThreads}`);
  const child = children.start(tools.turnserver, args);
  try {
    await waitForStunBinding(options.host, port, 10_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${child.tail()}`, { cause: error });
  }
  return { child, host: options.host, port, tlsPort };
}
