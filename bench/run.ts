// Benchmark: our relay (built CLI, its own process) and coturn's turnserver
// side by side on this machine, same client (turnutils_uclient), same load,
// loopback only. Prints a table and writes bench/results/latest.json.
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
import { measureAllocationMemory, type MemoryResult } from './memory.js';
import { cpuResolutionMicros } from './proc-stats.js';
import { startCoturnProcess, startOurRelayProcess, type ServerUnderTest } from './servers.js';
import { runLoad, type LoadResult, type LoadSpec } from './turn-load.js';

const loads: LoadSpec[] = [
  { label: 'paced 1k/s', sessions: 10, messagesPerSession: 300, intervalMs: 20 },
  { label: 'paced 8k/s', sessions: 20, messagesPerSession: 1200, intervalMs: 5 },
  { label: 'paced 20k/s', sessions: 40, messagesPerSession: 1500, intervalMs: 4 },
  { label: 'flood', sessions: 16, messagesPerSession: 5000, intervalMs: 0 },
];
const allocationsForMemory = 1000;

interface ServerResults {
  server: ServerUnderTest['name'];
  loads: LoadResult[];
  memory: MemoryResult;
}

const repoRoot = findRepoRoot(import.meta.url);

async function benchServer(
  children: ChildSet,
  start: () => Promise<ServerUnderTest>,
): Promise<ServerResults> {
  const server = await start();
  try {
    // Warm-up: first allocations, JIT, lazy initialisation.
    await runLoad(children, server, { label: 'warm-up', sessions: 2, messagesPerSession: 200, intervalMs: 5 });
    const results: LoadResult[] = [];
    for (const load of loads) {
      process.stderr.write(`  ${server.name}: ${load.label}\n`);
      results.push(await runLoad(children, server, load));
    }
    process.stderr.write(`  ${server.name}: ${allocationsForMemory} allocations\n`);
    const memory = await measureAllocationMemory(children, server, allocationsForMemory);
    return { server: server.name, loads: results, memory };
  } finally {
    await server.child.stop();
  }
}

function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/** Ours divided by coturn's CPU per relayed packet, per load (lower is better for us). */
function cpuRatios(servers: ServerResults[], name: ServerResults['server'] = 'turnrelay'): Array<{ load: string; steady: number | undefined; wholeRun: number | undefined }> {
  const ours = servers.find((s) => s.server === name);
  const coturn = servers.find((s) => s.server === 'coturn');
  if (!ours || !coturn) return [];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : undefined);
  return loads.map((load, i) => ({
    load: load.label,
    steady: ratio(ours.loads[i]?.steady?.cpuMicrosPerRelayedPacket, coturn.loads[i]?.steady?.cpuMicrosPerRelayedPacket),
    wholeRun: ratio(ours.loads[i]?.wholeRun.cpuMicrosPerRelayedPacket, coturn.loads[i]?.wholeRun.cpuMicrosPerRelayedPacket),
  }));
}

function printTable(echo: EchoResult[], servers: ServerResults[]): void {
  const rows: string[][] = [['server', 'load', 'offered pkt/s', 'relayed pkt/s', 'loss %', 'CPU µs/pkt (steady)', 'CPU µs/pkt (whole run)', 'relayed pkts', 'per metrics']];
  for (const s of servers) {
    for (const l of s.loads) {
      rows.push([
        s.server, l.label, fmt(l.offeredRelayedPerSecond, 0), fmt(l.steady?.relayedPerSecond, 0), fmt(l.lossPercent, 3),
        fmt(l.steady?.cpuMicrosPerRelayedPacket, 2), fmt(l.wholeRun.cpuMicrosPerRelayedPacket, 2), String(l.relayedPackets),
        l.metricsRelayedPackets === undefined ? '-' : String(l.metricsRelayedPackets),
      ]);
    }
  }
  for (const e of echo) {
    rows.push(['node dgram echo', e.label, fmt(e.offeredPerSecond, 0), fmt(e.echoedPerSecond, 0), fmt(e.lossPercent, 3), fmt(e.cpuMicrosPerPacket, 2), '', String(e.echoed), '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  for (const r of cpuRatios(servers)) {
    console.log(`CPU per relayed packet, ours/coturn, ${r.load}: ${fmt(r.steady, 2)}x steady, ${fmt(r.wholeRun, 2)}x whole run`);
  }
  for (const r of cpuRatios(servers, 'turnrelay-native')) {
    console.log(`CPU per relayed packet, ours-native/coturn, ${r.load}: ${fmt(r.steady, 2)}x steady, ${fmt(r.wholeRun, 2)}x whole run`);
  }
  for (const s of servers) {
    console.log(
      `memory ${s.server}: ${fmt(s.memory.kibPerThousandAllocations, 0)} KiB RSS per 1,000 allocations ` +
        `(${s.memory.allocations} allocations, RSS ${s.memory.rssBeforeKiB} -> ${s.memory.rssAfterKiB} KiB)`,
    );
  }
  console.log(`\nrelayed pkt = one datagram received and forwarded by the server (client-to-client: 2 per delivered message); ` +
    `CPU = utime+stime from /proc/<pid>/stat, resolution ${cpuResolutionMicros} µs; ${cpus().length} CPUs shared by server and client.`);
}

async function main(): Promise<void> {
  // `npm run bench -- coturn` runs one server only; default: all three.
  const selected = new Set(process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['coturn', 'turnrelay', 'turnrelay-native']);
  requireTools(['turnserver', 'turnutils_uclient']);
  if ((selected.has('turnrelay') || selected.has('turnrelay-native')) && !existsSync(join(repoRoot, 'dist/cli/turnrelay.js'))) throw new Error('dist/cli/turnrelay.js is missing: run `npm run build` (npm run bench does)');
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
    const servers: ServerResults[] = [];
    await mkdir(join(dir, 'coturn'));
    await mkdir(join(dir, 'ours'));
    await mkdir(join(dir, 'ours-native'));
    if (selected.has('coturn')) {
      servers.push(await benchServer(children, () => startCoturnProcess(children, { dir: join(dir, 'coturn'), host, portRange: { min: 50000, max: 52999 } })));
    }
    if (selected.has('turnrelay')) {
      servers.push(await benchServer(children, () => startOurRelayProcess(children, { dir: join(dir, 'ours'), host, portRange: { min: 53000, max: 55999 } })));
    }
    if (selected.has('turnrelay-native')) {
      servers.push(await benchServer(children, () => startOurRelayProcess(children, { dir: join(dir, 'ours-native'), host, portRange: { min: 56000, max: 58999 }, dataPlane: 'native' })));
    }
    printTable(echo, servers);
    const results = {
      date: new Date().toISOString(), node: process.version, cpus: cpus().map((c) => c.model)[0], cpuCount: cpus().length,
      durationSeconds: (Date.now() - started) / 1000, echo, servers, cpuRatiosOursToCoturn: cpuRatios(servers), cpuRatiosOursNativeToCoturn: cpuRatios(servers, 'turnrelay-native'),
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
