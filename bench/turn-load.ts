// One load run of turnutils_uclient against a server: client-to-client
// (-y), so each delivered message is relayed twice by the server (into the
// peer allocation, then out to the other client), 120-byte ChannelData.
// Server CPU (run time of all threads) is read twice: across the whole run (connect,
// relay, teardown), and over the steady window between uclient's progress
// lines (about one a second), which is what the per-packet figures use.
import type { ChildSet } from '../test/interop/harness/children.js';
import { sumSamples } from '../test/interop/harness/prometheus-text.js';
import { parseUclientReport, type UclientReport } from '../test/interop/harness/uclient-report.js';
import { requireTools } from '../test/interop/harness/tools.js';
import { cpuMicrosSince, cpuSample } from './proc-stats.js';
import { benchUclientArgs, type ServerUnderTest } from './servers.js';

export interface LoadSpec {
  label: string;
  sessions: number;
  messagesPerSession: number;
  /** uclient -z: ms between packets per session; 0 = as fast as uclient can. */
  intervalMs: number;
  /** Client transport; default UDP. */
  transport?: 'udp' | 'tcp';
  /** CPU list (taskset -c) for uclient, to keep it off the server's CPUs; unpinned when absent. */
  cpu?: string;
}

export interface LoadResult {
  label: string;
  offeredRelayedPerSecond: number | undefined;
  report: UclientReport;
  relayedPackets: number;
  metricsRelayedPackets: number | undefined;
  lossPercent: number;
  wholeRun: { serverCpuMicros: number; cpuMicrosPerRelayedPacket: number };
  steady:
    | { seconds: number; relayedPackets: number; relayedPerSecond: number; cpuMicrosPerRelayedPacket: number }
    | undefined;
}

interface Progress {
  at: number;
  received: number;
  cpu: number;
}

export async function runLoad(children: ChildSet, server: ServerUnderTest, spec: LoadSpec): Promise<LoadResult> {
  const tools = requireTools(['turnutils_uclient', 'taskset']);
  const args = benchUclientArgs(server, {
    sessions: spec.sessions,
    messages: spec.messagesPerSession,
    intervalMs: spec.intervalMs,
    ...(spec.transport ? { transport: spec.transport } : {}),
  });
  const metricsBefore = await server.metrics?.();
  const cpuBefore = cpuSample(server.pid);
  // taskset execs uclient in place: the child's pid and output are uclient's, pinned from its first instruction.
  const client =
    spec.cpu === undefined
      ? children.start(tools.turnutils_uclient, args)
      : children.start(tools.taskset, ['-c', spec.cpu, tools.turnutils_uclient, ...args]);
  const progress: Progress[] = [];
  client.process.stdout?.on('data', (chunk: string | Buffer) => {
    const matches = [...String(chunk).matchAll(/msz=\d+, tot_send_msgs=\d+, tot_recv_msgs=(\d+)/g)];
    const last = matches.at(-1);
    if (last) progress.push({ at: performance.now(), received: Number(last[1]), cpu: cpuMicrosSince(cpuBefore) });
  });
  const timeout = setTimeout(() => void client.stop('SIGKILL'), 90_000);
  try {
    const [code] = await client.exited;
    const cpu = cpuMicrosSince(cpuBefore);
    if (code !== 0) throw new Error(`turnutils_uclient exited ${code} against ${server.name}:\n${client.tail()}`);
    const report = parseUclientReport(client.stdout());
    const metricsAfter = await server.metrics?.();
    const relayedPackets = 2 * report.received;
    return {
      label: spec.label,
      offeredRelayedPerSecond: spec.intervalMs > 0 ? (2 * spec.sessions * 1000) / spec.intervalMs : undefined,
      report,
      relayedPackets,
      metricsRelayedPackets:
        metricsBefore !== undefined && metricsAfter !== undefined
          ? sumSamples(metricsAfter, 'turnrelay_relayed_packets_total') -
            sumSamples(metricsBefore, 'turnrelay_relayed_packets_total')
          : undefined,
      lossPercent: report.sent > 0 ? (100 * (report.sent - report.received)) / report.sent : 0,
      wholeRun: {
        serverCpuMicros: cpu,
        cpuMicrosPerRelayedPacket: relayedPackets > 0 ? cpu / relayedPackets : Number.NaN,
      },
      steady: steadyWindow(progress),
    };
  } finally {
    clearTimeout(timeout);
    await client.stop('SIGKILL');
  }
}

/**
 * uclient starts and stops its sessions gradually, so the steady window runs
 * from the progress line after 10% of the messages arrived to the last one
 * before 90% did.
 */
function steadyWindow(progress: Progress[]): LoadResult['steady'] {
  const final = progress.at(-1)?.received ?? 0;
  const start = progress.find((p) => p.received >= 0.1 * final);
  const end = progress.findLast((p) => p.received <= 0.9 * final);
  if (!start || !end || end.at - start.at < 900) return undefined;
  const seconds = (end.at - start.at) / 1000;
  const relayedPackets = 2 * (end.received - start.received);
  return {
    seconds,
    relayedPackets,
    relayedPerSecond: relayedPackets / seconds,
    cpuMicrosPerRelayedPacket: (end.cpu - start.cpu) / relayedPackets,
  };
}
