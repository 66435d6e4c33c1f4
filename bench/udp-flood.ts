// The batched load: allocations made in Node with the test TURN client
// (Allocate + CreatePermission + ChannelBind, timed as the allocation rate),
// then bench/loadgen (C++, sendmmsg/recvmmsg, pinned to its own CPU where
// the machine has one to spare) takes over their client ports and drives
// ChannelData at fixed offered rates, so each delivered message is two relayed
// packets: client-to-client (each allocation's peer is another allocation of
// the run, both call parties on one relay), or to a plain echo peer the load
// generator runs (a peer that is not a TURN client). Steps up a fixed ladder of rates until loss
// passes 0.1% twice in a row, then bisects between the highest passing and the
// lowest failing rate, so the maximum at <= 0.1% loss is found to about 1%.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { randomLoopbackAddress } from '../test/interop/harness/relay-config-files.js';
import { isSuccess, TurnTestClient } from '../test/unit/relay/helpers/turn-test-client.js';
import { MAX_LOSS_PERCENT, maxRateLimit, nextBisectionRate, type RateLimit, type StepLoss } from './max-rate-search.js';
import { cpuMicrosSince, cpuSample, systemMicrosSince, wakeupsSince } from './proc-stats.js';
import { benchUser, type ServerUnderTest } from './servers.js';

export interface FloodStep extends StepLoss {
  /** A rate of the fixed ladder, or one the maximum search bisected to. */
  search: 'ladder' | 'bisection';
  /** Datagrams of an earlier step that the server relayed during this one: not counted as received. */
  stale: number;
  seconds: number;
  relayedPerSecond: number;
  serverCpuMicros: number;
  cpuMicrosPerRelayedPacket: number;
  /** The part of the server's CPU spent in the kernel (ticks of /proc/<pid>/stat): sockets, UDP/IP, wakeups. */
  systemMicrosPerRelayedPacket: number;
  /** Times the server's threads were put on a CPU (mostly wakeups), per relayed packet. */
  wakeupsPerRelayedPacket: number;
}

export interface FloodResult {
  allocations: number;
  /** Allocate + CreatePermission + ChannelBind, each a full transaction, per second. */
  allocationsPerSecond: number;
  steps: FloodStep[];
  /** Highest relayed packets/s of a step with at most 0.1% loss. */
  maxRelayedPerSecond: number;
  /** What stopped the search there: the load generator, the server, or the top of the ladder. */
  limit: RateLimit;
  loadgenCpu: string;
  peer: FloodPeer;
}

/** CPUs for the server and for the load generator: separate when the machine has two, else shared. */
export function cpuPlan(serverThreads: number): { server: string; loadgen: string } {
  const n = cpus().length;
  if (n < 2) return { server: '0', loadgen: '0' };
  if (serverThreads >= n) return { server: `0-${n - 1}`, loadgen: `${n - 1}` };
  return { server: `0-${serverThreads - 1}`, loadgen: `${n - 1}` };
}

export function pin(pid: number, list: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}

interface Pair {
  port: number;
  channel: number;
}

/** Who the allocations send to: each other ('client', both call parties on the relay), or a plain UDP echo peer. */
export type FloodPeer = 'client' | 'echo';

/**
 * A UDP port free on `host` right now (the load generator binds it next), below the
 * ephemeral range the relay port blocks of the bench sit in: a peer there would be the
 * relay's own address at a relay port, which the servers refuse.
 */
async function freeEchoPort(host: string): Promise<number> {
  for (let port = 31000; port < 32000; port++) {
    const s = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (bound) return port;
  }
  throw new Error(`no free UDP port in 31000-31999 on ${host}`);
}

async function makeAllocations(
  server: ServerUnderTest,
  pairs: number,
  echo: { address: string; port: number } | undefined,
  clientHost: string,
): Promise<{ senders: Pair[]; perSecond: number }> {
  const started = performance.now();
  const senders: Pair[] = [];
  const clients: TurnTestClient[] = [];
  // A few pairs at a time: the server is measured, not the round trips of one client.
  const batch = 8;
  for (let first = 0; first < pairs; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, pairs - first) }, async (_, k) => {
        const i = first + k;
        const a = await TurnTestClient.udp(server.port, server.host, clientHost);
        const b = await TurnTestClient.udp(server.port, server.host, clientHost);
        clients.push(a, b);
        const ra = a.relayedAddress(await a.allocate(benchUser.name, benchUser.password));
        const rb = b.relayedAddress(await b.allocate(benchUser.name, benchUser.password));
        const ca = 0x4000 + ((2 * i) % 0x3fff);
        const cb = 0x4000 + ((2 * i + 1) % 0x3fff);
        for (const [c, peer, channel] of [
          [a, echo ?? rb, ca],
          [b, echo ?? ra, cb],
        ] as const) {
          if (!isSuccess(await c.createPermission(peer))) throw new Error(`${server.name}: CreatePermission failed`);
          if (!isSuccess(await c.channelBind(channel, peer))) throw new Error(`${server.name}: ChannelBind failed`);
        }
        senders.push({ port: a.localPort, channel: ca }, { port: b.localPort, channel: cb });
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) c.close(); // the loadgen binds these ports next
  return { senders, perSecond: (2 * pairs) / seconds };
}

/** One run of bench/loadgen: who it sends as and to, at what rate, for how long, on which CPU. */
interface LoadgenRun {
  binary: string;
  server: ServerUnderTest;
  senders: Pair[];
  rate: number;
  seconds: number;
  cpu: string;
  clientHost: string;
  echoPort: number | undefined;
  poll: boolean;
}

/** bench/loadgen's JSON line (see its header). */
interface LoadgenOutput {
  sent: number;
  received: number;
  stale: number;
  seconds: number;
  generatorDrops: number;
  sendFailures: number;
  cpuSeconds: number;
}

async function runLoadgen(run: LoadgenRun): Promise<LoadgenOutput> {
  const args = [
    '-c',
    run.cpu,
    run.binary,
    run.server.host,
    String(run.server.port),
    run.clientHost,
    String(run.rate),
    String(run.seconds),
    '120',
    ...(run.poll ? ['poll'] : []),
    ...(run.echoPort === undefined ? [] : [`echo=${run.echoPort}`]),
    ...run.senders.map((s) => `${s.port}:${s.channel}`),
  ];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += String(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    err += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`loadgen exited ${code}: ${err}`);
  return JSON.parse(out.trim()) as LoadgenOutput;
}

export async function runFlood(
  repoRoot: string,
  server: ServerUnderTest,
  options: {
    pairs: number;
    /** Default 'client'. */
    peer?: FloodPeer;
    /** The ladder: fixed offered rates (the same for every server, so CPU per packet compares at equal load). */
    rates: number[];
    seconds: number;
    loadgenCpu: string;
    /** After the ladder, bisect between the highest passing and lowest failing rate, at most this many steps. */
    bisectionSteps?: number;
    /** Stop bisecting once the bracket is this fraction of the passing rate; default 1%. */
    resolution?: number;
    /**
     * The load generator's receiving threads poll instead of sleeping, so the server's sends never
     * wake them: on loopback a sender pays for waking its receiver, which a server sending to a
     * remote client over a NIC does not. Only where the load generator has a CPU of its own.
     */
    clientPolls?: boolean;
    /** Runs alongside each step's load (bench/profile.ts observes the server with it). */
    during?: (rate: number) => Promise<void>;
  },
): Promise<FloodResult> {
  const binary = join(repoRoot, 'build/bench/loadgen');
  const echoPort = options.peer === 'echo' ? await freeEchoPort(server.host) : undefined;
  // The allocations of an earlier flood outlive it (the load generator never deletes them), and
  // a new client on a port one of them used would be refused (437): each flood's clients get a
  // loopback address of their own.
  const clientHost = randomLoopbackAddress();
  const { senders, perSecond } = await makeAllocations(
    server,
    options.pairs,
    echoPort === undefined ? undefined : { address: server.host, port: echoPort },
    clientHost,
  );
  // Let the server finish what the allocations left behind (log lines, timers, GC) before the first step.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const steps: FloodStep[] = [];
  const step = async (rate: number, search: FloodStep['search']): Promise<FloodStep> => {
    const cpuBefore = cpuSample(server.pid);
    const [r] = await Promise.all([
      runLoadgen({
        binary,
        server,
        senders,
        rate,
        seconds: options.seconds,
        cpu: options.loadgenCpu,
        clientHost,
        echoPort,
        poll: options.clientPolls ?? false,
      }),
      options.during?.(rate),
    ]);
    const cpuAfter = cpuSample(server.pid);
    const serverCpuMicros = cpuMicrosSince(cpuBefore, cpuAfter);
    const serverSystemMicros = systemMicrosSince(cpuBefore, cpuAfter);
    const wakeups = wakeupsSince(cpuBefore, cpuAfter);
    const relayed = 2 * r.received;
    const lossPercent = r.sent > 0 ? (100 * Math.max(0, r.sent - r.received)) / r.sent : 0;
    const result: FloodStep = {
      offeredMessagesPerSecond: rate,
      search,
      sent: r.sent,
      received: r.received,
      stale: r.stale,
      seconds: r.seconds,
      lossPercent,
      lostAtGenerator: r.generatorDrops + r.sendFailures,
      generatorCpuPercent: r.seconds > 0 ? (100 * r.cpuSeconds) / r.seconds : Number.NaN,
      relayedPerSecond: relayed / r.seconds,
      serverCpuMicros,
      cpuMicrosPerRelayedPacket: relayed > 0 ? serverCpuMicros / relayed : Number.NaN,
      systemMicrosPerRelayedPacket: relayed > 0 ? serverSystemMicros / relayed : Number.NaN,
      wakeupsPerRelayedPacket: relayed > 0 ? wakeups / relayed : Number.NaN,
    };
    steps.push(result);
    process.stderr.write(
      `    ${server.name}: offered ${rate} msg/s${search === 'bisection' ? ' (bisection)' : ''} -> relayed ${(relayed / r.seconds).toFixed(0)} pkt/s, loss ${lossPercent.toFixed(3)}% (${result.lostAtGenerator} at the load generator, its CPU ${result.generatorCpuPercent.toFixed(0)}%)${r.stale > 0 ? ` (${r.stale} stale datagrams of an earlier step not counted)` : ''}\n`,
    );
    return result;
  };
  let failures = 0;
  for (const rate of options.rates) {
    const { lossPercent } = await step(rate, 'ladder');
    failures = lossPercent > MAX_LOSS_PERCENT ? failures + 1 : 0;
    if (failures >= 2) break;
  }
  for (let i = 0; i < (options.bisectionSteps ?? 0); i++) {
    const rate = nextBisectionRate(steps, options.resolution ?? 0.01);
    if (rate === undefined) break;
    await step(rate, 'bisection');
  }
  const passing = steps.filter((s) => s.lossPercent <= MAX_LOSS_PERCENT);
  return {
    allocations: senders.length,
    allocationsPerSecond: perSecond,
    steps,
    maxRelayedPerSecond: Math.max(0, ...passing.map((s) => s.relayedPerSecond)),
    limit: maxRateLimit(steps),
    loadgenCpu: options.loadgenCpu,
    peer: options.peer ?? 'client',
  };
}
