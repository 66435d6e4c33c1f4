// Benchmark: our relay (built CLI, its own process) and coturn's turnserver
// side by side on this machine, loopback only: coturn --relay-threads=1 next
// to ours with relay.threads 1, then both with 2. For each: CPU per relayed
// packet under turnutils_uclient at several paced loads and a flood (steady
// window and whole run), the maximum relayed rate at <= 0.1% loss from the
// batched load generator (bench/loadgen), the allocation rate, memory per
// 1,000 allocations, CPU per relayed packet for TCP clients and CPU while
// idle (warmed up, no traffic). uclient and the load generator run on the
// last CPU (taskset); the server on the first with one thread, on both with
// two. Prints the table and the ratios against the goals, writes
// bench/results/latest.json.
// Run with `npm run bench` (builds first). Not a test: it asserts nothing.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildSet } from '../test/interop/harness/children.js';
import { randomLoopbackAddress } from '../test/interop/harness/relay-config-files.js';
import { findRepoRoot } from '../test/interop/harness/repo-root.js';
import { requireTools } from '../test/interop/harness/tools.js';
import { runEchoBaseline, type EchoResult } from './echo-baseline.js';
import { inferredScaling, type InferredScaling } from './capacity.js';
import { measureAllocationMemory, type MemoryResult } from './memory.js';
import type { RateLimit } from './max-rate-search.js';
import { cpuMicrosSince, cpuSample, cpuSource } from './proc-stats.js';
import { summariseRounds, type RatioLine } from './ratio-summary.js';
import { startCoturnProcess, startOurRelayProcess, type ServerUnderTest } from './servers.js';
import { runLoad, type LoadResult, type LoadSpec } from './turn-load.js';
import { cpuPlan, pin, runFlood, type FloodResult } from './udp-flood.js';

const loads: LoadSpec[] = [
  { label: 'paced 1k/s', sessions: 10, messagesPerSession: 300, intervalMs: 20 },
  { label: 'paced 8k/s', sessions: 20, messagesPerSession: 1200, intervalMs: 5 },
  { label: 'paced 20k/s', sessions: 40, messagesPerSession: 1500, intervalMs: 4 },
  { label: 'flood', sessions: 16, messagesPerSession: 5000, intervalMs: 0 },
];
const tcpLoad: LoadSpec = { label: 'tcp paced 8k/s', sessions: 20, messagesPerSession: 1200, intervalMs: 5 };
/** Offered ChannelData messages/s of the batched load (each delivered one is relayed twice). */
const floodRates = [
  5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 130_000, 160_000, 200_000, 250_000, 320_000, 400_000,
];
const allocationsForMemory = 1000;
/** How long a warmed-up server with no traffic is watched for the idle CPU figure. */
const idleSeconds = 5;

interface Config {
  name: string;
  kind: 'coturn' | 'turnrelay';
  threads: number;
}
const CONFIGS: Config[] = [
  { name: 'coturn-t1', kind: 'coturn', threads: 1 },
  { name: 'turnrelay-t1', kind: 'turnrelay', threads: 1 },
  { name: 'coturn-t2', kind: 'coturn', threads: 2 },
  { name: 'turnrelay-t2', kind: 'turnrelay', threads: 2 },
];

const FLOOD_PEERS: Array<[string, (s: ServerResults) => FloodResult]> = [
  ['client-to-client (each allocation sends to another allocation of the same server)', (s) => s.flood],
  ['echo peer (each allocation sends to a plain UDP peer that echoes)', (s) => s.floodEcho],
];

interface ServerResults {
  server: string;
  threads: number;
  cpus: { server: string; loadgen: string };
  loads: LoadResult[];
  /** Client-to-client: each allocation's peer is another allocation of this server. */
  flood: FloodResult;
  /** The same load to a plain UDP echo peer: every packet crosses the kernel on the relay side. */
  floodEcho: FloodResult;
  tcp: LoadResult;
  memory: MemoryResult;
  /** CPU ms per second while warmed up and without traffic (timers, housekeeping). */
  idleCpuMillisPerSecond: number;
}

/** CPU ms per second the server uses over idleSeconds with nothing to relay. */
async function idleCpu(server: ServerUnderTest): Promise<number> {
  const before = cpuSample(server.pid);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  return cpuMicrosSince(before) / 1000 / idleSeconds;
}

const repoRoot = findRepoRoot(import.meta.url);

async function benchServer(
  children: ChildSet,
  config: Config,
  start: () => Promise<ServerUnderTest>,
): Promise<ServerResults> {
  const server = await start();
  const plan = cpuPlan(config.threads);
  try {
    pin(server.pid, plan.server);
    // Warm-up: first allocations, JIT, lazy initialisation.
    await runLoad(children, server, {
      label: 'warm-up',
      sessions: 2,
      messagesPerSession: 200,
      intervalMs: 5,
      cpu: plan.loadgen,
    });
    process.stderr.write(`  ${server.name}: idle ${idleSeconds} s\n`);
    const idleCpuMillisPerSecond = await idleCpu(server);
    const results: LoadResult[] = [];
    for (const load of loads) {
      process.stderr.write(`  ${server.name}: ${load.label}\n`);
      results.push(await runLoad(children, server, { ...load, cpu: plan.loadgen }));
    }
    const floodOptions = {
      pairs: 100,
      rates: floodRates,
      seconds: 2,
      loadgenCpu: plan.loadgen,
      // Bounded: at most 6 more 2 s steps, which narrow a 60k -> 80k bracket to ~300 msg/s.
      bisectionSteps: 6,
      resolution: 0.01,
    };
    process.stderr.write(`  ${server.name}: batched flood, client to client\n`);
    const flood = await runFlood(repoRoot, server, floodOptions);
    process.stderr.write(`  ${server.name}: batched flood, echo peer\n`);
    const floodEcho = await runFlood(repoRoot, server, { ...floodOptions, peer: 'echo' });
    process.stderr.write(`  ${server.name}: ${tcpLoad.label}\n`);
    const tcp = await runLoad(children, server, { ...tcpLoad, transport: 'tcp', cpu: plan.loadgen });
    process.stderr.write(`  ${server.name}: ${allocationsForMemory} allocations\n`);
    const memory = await measureAllocationMemory(children, server, allocationsForMemory);
    return {
      server: config.name,
      threads: config.threads,
      cpus: plan,
      loads: results,
      flood,
      floodEcho,
      tcp,
      memory,
      idleCpuMillisPerSecond,
    };
  } finally {
    await server.child.stop();
  }
}

function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : undefined);

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
}

function limitText(limit: RateLimit): string {
  return limit.by === 'none (top of the ladder)'
    ? limit.by
    : `${limit.by} at ${limit.offeredMessagesPerSecond} msg/s (loadgen CPU ${fmt(limit.generatorCpuPercent, 0)}%)`;
}

/** Ours/coturn under the batched load generator, for one kind of peer. */
interface FloodRatios {
  /** kernelFloor: our kernel time alone over coturn's whole CPU, which no user-space change can go below. */
  cpuPerPacket: Array<{
    offered: number;
    ratio: number | undefined;
    kernelFloor: number | undefined;
    /** Our wakeups per relayed packet over coturn's. */
    wakeups: number | undefined;
  }>;
  maxRelayedRate: number | undefined;
  /** What capped each server's maximum, so a ratio between two generator-bound maxima reads as one. */
  limits: string;
}

function floodRatios(ours: FloodResult, coturn: FloodResult): FloodRatios {
  return {
    // Only rates both servers carried within the loss limit compare like with like.
    cpuPerPacket: ours.steps.flatMap((o) => {
      const c = coturn.steps.find(
        (s) => s.search === 'ladder' && s.offeredMessagesPerSecond === o.offeredMessagesPerSecond,
      );
      return o.search === 'ladder' && c && o.lossPercent <= 0.1 && c.lossPercent <= 0.1
        ? [
            {
              offered: o.offeredMessagesPerSecond,
              ratio: ratio(o.cpuMicrosPerRelayedPacket, c.cpuMicrosPerRelayedPacket),
              kernelFloor: ratio(o.systemMicrosPerRelayedPacket, c.cpuMicrosPerRelayedPacket),
              wakeups: ratio(o.wakeupsPerRelayedPacket, c.wakeupsPerRelayedPacket),
            },
          ]
        : [];
    }),
    maxRelayedRate: ratio(ours.maxRelayedPerSecond, coturn.maxRelayedPerSecond),
    limits: `ours capped by ${ours.limit.by}, coturn by ${coturn.limit.by}`,
  };
}

interface Ratios {
  threads: number;
  cpuPerPacket: Array<{ load: string; steady: number | undefined; wholeRun: number | undefined }>;
  flood: FloodRatios;
  floodEcho: FloodRatios;
  allocationRate: number | undefined;
  memory: number | undefined;
  tcpCpuPerPacket: number | undefined;
  idleCpu: number | undefined;
}

function ratiosAt(servers: ServerResults[], threads: number): Ratios | undefined {
  const ours = servers.find((s) => s.server === `turnrelay-t${threads}`);
  const coturn = servers.find((s) => s.server === `coturn-t${threads}`);
  if (!ours || !coturn) return undefined;
  return {
    threads,
    cpuPerPacket: loads.map((load, i) => ({
      load: load.label,
      steady: ratio(
        ours.loads[i]?.steady?.cpuMicrosPerRelayedPacket,
        coturn.loads[i]?.steady?.cpuMicrosPerRelayedPacket,
      ),
      wholeRun: ratio(
        ours.loads[i]?.wholeRun.cpuMicrosPerRelayedPacket,
        coturn.loads[i]?.wholeRun.cpuMicrosPerRelayedPacket,
      ),
    })),
    flood: floodRatios(ours.flood, coturn.flood),
    floodEcho: floodRatios(ours.floodEcho, coturn.floodEcho),
    allocationRate: ratio(ours.flood.allocationsPerSecond, coturn.flood.allocationsPerSecond),
    memory: ratio(ours.memory.kibPerThousandAllocations, coturn.memory.kibPerThousandAllocations),
    tcpCpuPerPacket: ratio(ours.tcp.steady?.cpuMicrosPerRelayedPacket, coturn.tcp.steady?.cpuMicrosPerRelayedPacket),
    idleCpu: ratio(ours.idleCpuMillisPerSecond, coturn.idleCpuMillisPerSecond),
  };
}

function report(
  echo: EchoResult[],
  servers: ServerResults[],
): { ratios: Ratios[]; lines: RatioLine[]; scaling: Record<string, unknown> } {
  const uclientRows: string[][] = [
    ['server', 'load', 'offered pkt/s', 'relayed pkt/s', 'loss %', 'CPU µs/pkt (steady)', 'CPU µs/pkt (whole run)'],
  ];
  for (const s of servers) {
    for (const l of [...s.loads, s.tcp]) {
      uclientRows.push([
        s.server,
        l.label,
        fmt(l.offeredRelayedPerSecond, 0),
        fmt(l.steady?.relayedPerSecond, 0),
        fmt(l.lossPercent, 3),
        fmt(l.steady?.cpuMicrosPerRelayedPacket, 2),
        fmt(l.wholeRun.cpuMicrosPerRelayedPacket, 2),
      ]);
    }
  }
  for (const e of echo)
    uclientRows.push([
      'node dgram echo',
      e.label,
      fmt(e.offeredPerSecond, 0),
      fmt(e.echoedPerSecond, 0),
      fmt(e.lossPercent, 3),
      fmt(e.cpuMicrosPerPacket, 2),
      '',
    ]);
  console.log('turnutils_uclient (client-to-client, 120-byte ChannelData; relayed pkt = 2 per delivered message)');
  printTable(uclientRows);

  for (const [peer, pick] of FLOOD_PEERS) {
    const floodRows: string[][] = [
      [
        'server',
        'offered msg/s',
        'relayed pkt/s',
        'loss %',
        'server CPU µs/pkt',
        'of it in the kernel µs/pkt',
        'server wakeups/pkt',
        'lost at loadgen',
        'loadgen CPU %',
      ],
    ];
    for (const s of servers)
      for (const f of [...pick(s).steps].sort((a, b) => a.offeredMessagesPerSecond - b.offeredMessagesPerSecond))
        floodRows.push([
          s.server,
          `${f.offeredMessagesPerSecond}${f.search === 'bisection' ? ' (bisection)' : ''}`,
          fmt(f.relayedPerSecond, 0),
          fmt(f.lossPercent, 3),
          fmt(f.cpuMicrosPerRelayedPacket, 2),
          fmt(f.systemMicrosPerRelayedPacket, 2),
          fmt(f.wakeupsPerRelayedPacket, 3),
          String(f.lostAtGenerator),
          fmt(f.generatorCpuPercent, 0),
        ]);
    console.log(
      `batched load generator (bench/loadgen: sendmmsg/recvmmsg, 200 allocations, 120-byte ChannelData), ${peer}`,
    );
    printTable(floodRows);
  }

  const summary: string[][] = [
    [
      'server',
      'threads',
      'CPUs server/loadgen',
      'max relayed pkt/s (<=0.1% loss), client-to-client / echo peer',
      'what capped it, client-to-client / echo peer',
      'allocations/s',
      'KiB RSS / 1,000 alloc',
      'TCP CPU µs/pkt',
      'idle CPU ms/s',
    ],
  ];
  for (const s of servers) {
    summary.push([
      s.server,
      String(s.threads),
      `${s.cpus.server} / ${s.cpus.loadgen}`,
      `${fmt(s.flood.maxRelayedPerSecond, 0)} / ${fmt(s.floodEcho.maxRelayedPerSecond, 0)}`,
      `${limitText(s.flood.limit)} / ${limitText(s.floodEcho.limit)}`,
      fmt(s.flood.allocationsPerSecond, 0),
      fmt(s.memory.kibPerThousandAllocations, 0),
      fmt(s.tcp.steady?.cpuMicrosPerRelayedPacket, 2),
      fmt(s.idleCpuMillisPerSecond, 2),
    ]);
  }
  printTable(summary);

  const ratios = [1, 2].flatMap((t) => ratiosAt(servers, t) ?? []);
  // Client-to-client, 2 threads hand datagrams between threads where 1 thread hands them over
  // directly, so the echo peer (kernel both ways on every thread count) is the like-for-like
  // scaling figure; the client-to-client one is printed beside it.
  const maxRate = (name: string, peer: 'flood' | 'floodEcho') =>
    servers.find((s) => s.server === name)?.[peer].maxRelayedPerSecond;
  const scaling = {
    turnrelay: ratio(maxRate('turnrelay-t2', 'floodEcho'), maxRate('turnrelay-t1', 'floodEcho')),
    coturn: ratio(maxRate('coturn-t2', 'floodEcho'), maxRate('coturn-t1', 'floodEcho')),
    clientToClient: {
      turnrelay: ratio(maxRate('turnrelay-t2', 'flood'), maxRate('turnrelay-t1', 'flood')),
      coturn: ratio(maxRate('coturn-t2', 'flood'), maxRate('coturn-t1', 'flood')),
    },
  };
  const steps = (name: string) => servers.find((s) => s.server === name)?.floodEcho.steps ?? [];
  const inferred = {
    turnrelay: inferredScaling(steps('turnrelay-t1'), steps('turnrelay-t2'), 2),
    coturn: inferredScaling(steps('coturn-t1'), steps('coturn-t2'), 2),
  };
  const lines = ratioLines(ratios, scaling, inferred);
  console.log('ours/coturn (unless a line says otherwise):');
  for (const line of lines)
    console.log(
      `  ${line.label}: ${fmt(line.value, 2)}x${line.goal ? ` (goal ${line.goal})` : ''}${line.note ? `; ${line.note}` : ''}`,
    );
  for (const [name, s] of Object.entries(inferred))
    if (s)
      console.log(
        `1 -> 2 threads, echo peer, CPU-normalised capacity (INFERRED, not measured: threads x 1e6 / CPU µs per relayed packet at ${s.offeredMessagesPerSecond} msg/s): ` +
          `${name} ${fmt(s.capacity.one, 0)} -> ${fmt(s.capacity.many, 0)} pkt/s, ${fmt(s.ratio, 2)}x`,
      );
  console.log(
    `\n${cpus().length} CPUs. With 2 threads the server gets both CPUs and shares one with the load generator, so the 2-thread figures ` +
      `(and the 1 -> 2 scaling) are bounded by the client, not by the relay; with 1 thread the server is pinned to CPU 0, and the load generator and turnutils_uclient to CPU 1. ` +
      `CPU = ${cpuSource}. ` +
      '"Our kernel time alone" divides our system CPU per relayed packet (stime ticks of /proc/<pid>/stat: the socket calls, UDP/IP and waking the receiver) ' +
      "by coturn's whole CPU per relayed packet: the ratio our relay would reach if its own code cost nothing. " +
      '"Wakeups" count the times the server\'s threads were put on a CPU (schedstat), per relayed packet.',
  );
  return { ratios, lines, scaling: { ...scaling, inferred } };
}

/** Every ratio of a round as a labelled line (ours/coturn unless the label says otherwise). */
function ratioLines(
  ratios: Ratios[],
  scaling: { turnrelay?: number; coturn?: number; clientToClient: { turnrelay?: number; coturn?: number } },
  inferred: Record<string, InferredScaling | undefined>,
): RatioLine[] {
  const lines: RatioLine[] = [];
  for (const r of ratios) {
    const t = `t${r.threads}`;
    const cpuGoal = r.threads === 1 ? '<= 0.5x' : undefined;
    for (const c of r.cpuPerPacket) {
      lines.push({ label: `${t} CPU/pkt, uclient ${c.load}, steady`, value: c.steady, goal: cpuGoal });
      lines.push({ label: `${t} CPU/pkt, uclient ${c.load}, whole run`, value: c.wholeRun });
    }
    for (const [peer, flood] of [
      ['client-to-client', r.flood],
      ['echo peer', r.floodEcho],
    ] as const) {
      for (const f of flood.cpuPerPacket) {
        lines.push({ label: `${t} CPU/pkt, loadgen ${peer} ${f.offered} msg/s`, value: f.ratio, goal: cpuGoal });
        lines.push({ label: `${t} our kernel time alone, loadgen ${peer} ${f.offered} msg/s`, value: f.kernelFloor });
        lines.push({ label: `${t} wakeups/pkt, loadgen ${peer} ${f.offered} msg/s`, value: f.wakeups });
      }
      lines.push({
        label: `${t} max relayed rate, ${peer}`,
        value: flood.maxRelayedRate,
        goal: '>= 1.5x',
        note: flood.limits,
      });
    }
    lines.push({ label: `${t} allocation rate`, value: r.allocationRate });
    lines.push({ label: `${t} memory per 1,000 allocations`, value: r.memory });
    lines.push({ label: `${t} TCP clients CPU/pkt (uclient, steady)`, value: r.tcpCpuPerPacket });
    lines.push({ label: `${t} idle CPU`, value: r.idleCpu });
  }
  lines.push({
    label: '1 -> 2 threads, max relayed rate, echo peer, turnrelay',
    value: scaling.turnrelay,
    goal: '>= 1.8x',
  });
  lines.push({ label: '1 -> 2 threads, max relayed rate, echo peer, coturn', value: scaling.coturn });
  lines.push({
    label: '1 -> 2 threads, max relayed rate, client-to-client, turnrelay',
    value: scaling.clientToClient.turnrelay,
  });
  lines.push({
    label: '1 -> 2 threads, max relayed rate, client-to-client, coturn',
    value: scaling.clientToClient.coturn,
  });
  for (const [name, s] of Object.entries(inferred))
    lines.push({ label: `1 -> 2 threads, echo peer, INFERRED CPU-normalised capacity, ${name}`, value: s?.ratio });
  return lines;
}

function parseArgs(args: string[]): { roundCount: number; names: string[] } {
  const names: string[] = [];
  let roundCount = 1;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') {
      roundCount = Number(args[++i]);
      if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error('--rounds takes a whole number >= 1');
    } else if (CONFIGS.some((c) => c.name === args[i])) names.push(args[i]!);
    else
      throw new Error(`unknown argument ${args[i]}: expected --rounds N or ${CONFIGS.map((c) => c.name).join(', ')}`);
  }
  return { roundCount, names };
}

async function main(): Promise<void> {
  // `npm run bench -- coturn-t1 turnrelay-t1` runs only those (default: all four);
  // `--rounds N` runs them N times over and summarises each ratio by its median.
  const { roundCount, names } = parseArgs(process.argv.slice(2));
  const selected = new Set(names.length > 0 ? names : CONFIGS.map((c) => c.name));
  requireTools(['turnserver', 'turnutils_uclient', 'taskset']);
  if (!existsSync(join(repoRoot, 'dist/cli/turnrelay.js')))
    throw new Error('dist/cli/turnrelay.js is missing: run `npm run build` (npm run bench does)');
  if (!existsSync(join(repoRoot, 'build/bench/loadgen')))
    throw new Error('build/bench/loadgen is missing: run `bash bench/loadgen/build.sh` (npm run bench does)');
  const children = new ChildSet();
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-bench-'));
  const host = randomLoopbackAddress();
  const started = Date.now();
  const cleanup = async () => {
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    process.stderr.write(`benchmark on ${host}\n  node dgram echo\n`);
    const echo = await runEchoBaseline(children, host, [
      { label: 'paced 10k/s', mode: '10000', seconds: 4 },
      { label: 'flood', mode: 'flood:64', seconds: 4 },
    ]);
    const rounds: Array<{ servers: ServerResults[]; ratios: Ratios[]; scaling: Record<string, unknown> }> = [];
    const roundLines: RatioLine[][] = [];
    for (let round = 1; round <= roundCount; round++) {
      if (roundCount > 1) process.stderr.write(`round ${round} of ${roundCount}\n`);
      const servers: ServerResults[] = [];
      for (const [i, config] of CONFIGS.entries()) {
        if (!selected.has(config.name)) continue;
        const serverDir = join(dir, `round-${round}-server-${i}`);
        await mkdir(serverDir);
        // Separate port blocks: allocations of one server may outlive it in the kernel tables for a moment.
        const portRange = { min: 40000 + i * 5000, max: 40000 + i * 5000 + 4999 };
        servers.push(
          await benchServer(children, config, () =>
            config.kind === 'coturn'
              ? startCoturnProcess(children, {
                  dir: serverDir,
                  host,
                  portRange,
                  relayThreads: config.threads,
                  name: config.name,
                })
              : startOurRelayProcess(children, {
                  dir: serverDir,
                  host,
                  portRange,
                  threads: config.threads,
                  name: config.name,
                }),
          ),
        );
      }
      if (roundCount > 1) console.log(`\n==== round ${round} of ${roundCount} ====`);
      const { ratios, lines, scaling } = report(echo, servers);
      rounds.push({ servers, ratios, scaling });
      roundLines.push(lines);
    }
    const summary = summariseRounds(roundLines);
    if (roundCount > 1) {
      console.log(`\nours/coturn over ${roundCount} rounds: median (lowest - highest round)`);
      for (const r of summary)
        console.log(
          `  ${r.label}: ${fmt(r.median, 2)}x (${fmt(r.min, 2)} - ${fmt(r.max, 2)}${r.rounds < roundCount ? `, ${r.rounds} rounds` : ''})${r.goal ? ` (goal ${r.goal})` : ''}`,
        );
    }
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().map((c) => c.model)[0],
      cpuCount: cpus().length,
      durationSeconds: (Date.now() - started) / 1000,
      echo,
      rounds,
      summary,
    };
    await mkdir(join(repoRoot, 'bench/results'), { recursive: true });
    await writeFile(join(repoRoot, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote bench/results/latest.json (${results.durationSeconds.toFixed(0)} s)`);
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
