// Clients of relay pods, run from inside the node's network namespace (where
// Services and pod IPs are routed): turnutils_uclient to an echo peer, and a
// relay pod's own metrics read through the API server's pod proxy.
import type { ChildSet, StartedChild } from '../../interop/harness/children.js';
import { freeUdpTcpPort } from '../../interop/harness/ports.js';
import { requireTools } from '../../interop/harness/tools.js';
import { inNetns, runUclient, startPeerArgs, type ClientTransport } from '../../interop/harness/uclient.js';
import type { UclientReport } from '../../interop/harness/uclient-report.js';
import { kubectl } from '../../k8s/delivery-kubectl.js';
import { ADMIN_PORT } from '../../../operator/api/constants.js';
import { nodeIp, nodeNetns } from './pods-env.js';

/** turnutils_peer in the node's namespace, echoing on `host` (the node address by default) at a free port. */
export async function startEchoPeer(
  children: ChildSet,
  host: string = nodeIp(),
): Promise<{ port: number; peer: StartedChild }> {
  const { turnutils_peer } = requireTools(['turnutils_peer']);
  const port = await freeUdpTcpPort();
  const peer = children.start(...inNetns(nodeNetns(), turnutils_peer, startPeerArgs(host, port)));
  await new Promise((resolve) => setTimeout(resolve, 500)); // time to bind
  return { port, peer };
}

/**
 * turnutils_uclient from inside the node's namespace (or `options.netnsPath`):
 * two sessions through the relay to the echo peer on the node address (or `options.peerHost`).
 */
export async function relayToEchoPeer(
  children: ChildSet,
  server: { host: string; port: number },
  transport: ClientTransport,
  credentials: { username: string; credential: string },
  peerPort: number,
  messages: number,
  options: { netnsPath?: string; verbose?: boolean; peerHost?: string } = {},
): Promise<UclientReport> {
  const outcome = await runUclient(children, {
    server,
    transport,
    method: 'channel-data',
    auth: { kind: 'long-term', user: credentials.username, password: credentials.credential },
    peer: { kind: 'echo', host: options.peerHost ?? nodeIp(), port: peerPort },
    sessions: 2,
    messages,
    size: 120,
    // uclient takes one TLS record for one message: paced, it loses none.
    ...(transport === 'tls' ? { intervalMs: 50 } : {}),
    timeoutMs: 60_000,
    netnsPath: options.netnsPath ?? nodeNetns(),
    ...(options.verbose ? { verbose: true } : {}),
  });
  return outcome.report;
}

/** A relay pod's /metrics text, from its admin port through the API server's pod proxy. */
export function relayPodMetrics(namespace: string, pod: string): Promise<string> {
  return kubectl(['get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}:${ADMIN_PORT}/proxy/metrics`]);
}

/** A relay pod's current IPv4 allocations, from its metrics. */
export async function relayAllocations(namespace: string, pod: string): Promise<number> {
  return sample(await relayPodMetrics(namespace, pod), 'turnrelay_allocations{family="ipv4"}');
}

/** The value of one sample (`name{labels}` exactly as exposed, or a bare name), 0 when absent. */
export function sample(metrics: string, series: string): number {
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/** The relay's "relay started" log line (listeners, data plane, threads) from a relay pod. */
export async function relayStartedLog(
  namespace: string,
  pod: string,
): Promise<{ dataPlane: string; threads: number; coalesceMicros?: number; listeners: unknown[] }> {
  const logs = await kubectl(['logs', '-n', namespace, pod, '-c', 'relay']);
  const line = logs.split('\n').find((l) => l.includes('"relay started"'));
  if (!line) throw new Error(`no "relay started" line in the logs of ${namespace}/${pod}:\n${logs.slice(-2000)}`);
  return JSON.parse(line) as { dataPlane: string; threads: number; coalesceMicros?: number; listeners: unknown[] };
}
