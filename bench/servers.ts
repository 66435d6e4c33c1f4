// The TURN servers under comparison, each as its own process on one
// loopback address with long-term user auth, UDP listener only, loopback
// peers allowed: ours through the built CLI (dist/cli/turnrelay.js, Node or native data plane), and coturn.
import type { ChildSet, StartedChild } from '../test/interop/harness/children.js';
import { startCoturn } from '../test/interop/harness/coturn-server.js';
import { writeRelayFiles } from '../test/interop/harness/relay-config-files.js';
import { relayFromBuild, startRelayProcess } from '../test/interop/harness/relay-process.js';
import { uclientArgs } from '../test/interop/harness/uclient.js';

export interface ServerUnderTest {
  name: string;
  child: StartedChild;
  pid: number;
  host: string;
  port: number;
  /** TCP listener port (ours binds it separately; coturn listens on the UDP port). */
  tcpPort: number;
  portRange: { min: number; max: number };
  /** Prometheus text, for servers that expose it. */
  metrics?: () => Promise<string>;
}

export const benchUser = { name: 'bench', password: 'bench-password-not-secret' };

/** The one client load of every benchmark: 120-byte ChannelData, client-to-client, long-term auth; UDP unless told. */
export function benchUclientArgs(
  server: ServerUnderTest,
  load: { sessions: number; messages: number; intervalMs?: number; transport?: 'udp' | 'tcp' },
): string[] {
  return uclientArgs({
    server: { host: server.host, port: load.transport === 'tcp' ? server.tcpPort : server.port },
    transport: load.transport ?? 'udp',
    method: 'channel-data',
    auth: { kind: 'long-term', user: benchUser.name, password: benchUser.password },
    peer: { kind: 'client-to-client' },
    sessions: load.sessions,
    messages: load.messages,
    size: 120,
    timeoutMs: 0,
    ...(load.intervalMs !== undefined ? { intervalMs: load.intervalMs } : {}),
  });
}

export async function startOurRelayProcess(
  children: ChildSet,
  options: {
    dir: string;
    host: string;
    portRange: { min: number; max: number };
    dataPlane?: 'node' | 'native';
    threads?: number;
    coalesceMicros?: number;
    name?: string;
  },
): Promise<ServerUnderTest> {
  const { configPath } = await writeRelayFiles({
    dataPlane: options.dataPlane,
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.coalesceMicros !== undefined ? { coalesceMicros: options.coalesceMicros } : {}),
    dir: options.dir,
    host: options.host,
    listeners: ['udp', 'tcp'],
    users: { [benchUser.name]: benchUser.password },
    portRange: options.portRange,
    allowCIDRs: [`${options.host}/32`],
    // The memory run opens 1,000 allocations for one user from one address, and every
    // allocation starts with an unauthenticated Allocate (401) from that same address.
    limits: { maxAllocations: 10000, maxAllocationsPerUser: 100000, unauthenticatedResponsesPerSecond: 100000 },
    logLevel: 'info',
  });
  const relay = await startRelayProcess(children, relayFromBuild, configPath);
  const { host, port } = relay.endpoint('udp');
  const tcpPort = relay.endpoint('tcp').port;
  return {
    name: options.name ?? (options.dataPlane === 'node' ? 'turnrelay-node' : 'turnrelay'),
    child: relay.child,
    pid: relay.child.pid,
    host,
    port,
    tcpPort,
    portRange: options.portRange,
    metrics: relay.metrics,
  };
}

export async function startCoturnProcess(
  children: ChildSet,
  options: { dir: string; host: string; portRange: { min: number; max: number }; relayThreads?: number; name?: string },
): Promise<ServerUnderTest> {
  const server = await startCoturn(children, {
    dir: options.dir,
    host: options.host,
    realm: 'bench.turnrelay.test',
    portRange: options.portRange,
    users: { [benchUser.name]: benchUser.password },
    ...(options.relayThreads ? { relayThreads: options.relayThreads } : {}),
  });
  return {
    name: options.name ?? 'coturn',
    child: server.child,
    pid: server.child.pid,
    host: options.host,
    port: server.port,
    tcpPort: server.port,
    portRange: options.portRange,
  };
}
