// Where a server's time goes under the batched load: for each offered rate,
// system calls by name (perf's syscall tracepoints, counted in the kernel, so
// the server is barely slowed), user vs system CPU and run time with ns
// resolution (/proc/<pid>/task/*/schedstat), all per relayed packet, over a
// window in the middle of the step; optionally a `perf record -g` profile.
//
//   node dist/bench/profile.js <coturn|turnrelay> [--threads N] [--rates 20000,60000] [--peer client|echo] [--poll]
//     [--coalesce MICROS] [--record DIR]
//
// Needs perf (Debian linux-perf) and root. A diagnostic, not part of `npm run bench`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildSet } from '../test/interop/harness/children.js';
import { randomLoopbackAddress } from '../test/interop/harness/relay-config-files.js';
import { findRepoRoot } from '../test/interop/harness/repo-root.js';
import { threadCpu, type ThreadCpu } from './proc-stats.js';
import { startCoturnProcess, startOurRelayProcess, type ServerUnderTest } from './servers.js';
import { cpuPlan, pin, runFlood, type FloodPeer } from './udp-flood.js';

const run = promisify(execFile);
const repoRoot = findRepoRoot(import.meta.url);

interface Args {
  kind: 'coturn' | 'turnrelay';
  threads: number;
  rates: number[];
  peer: FloodPeer;
  /** The load generator polls instead of sleeping (see runFlood's clientPolls). */
  poll: boolean;
  /** Our relay's relay.coalesceMicros; absent = its default. */
  coalesce: number | undefined;
  record: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const kind = argv[0];
  if (kind !== 'coturn' && kind !== 'turnrelay') throw new Error('usage: profile <coturn|turnrelay> [options]');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    kind,
    threads: Number(value('--threads') ?? 1),
    rates: (value('--rates') ?? '20000,60000').split(',').map(Number),
    peer: value('--peer') === 'echo' ? 'echo' : 'client',
    poll: argv.includes('--poll'),
    coalesce: value('--coalesce') === undefined ? undefined : Number(value('--coalesce')),
    record: value('--record'),
  };
}

// The calls a UDP relay's data path makes (each server uses some of them); '(all)' counts every call.
const watchedCalls = [
  'recvmmsg',
  'sendmmsg',
  'recvmsg',
  'sendmsg',
  'recvfrom',
  'sendto',
  'epoll_wait',
  'epoll_pwait',
  'epoll_ctl',
  'read',
  'write',
  'futex',
];

/** Counts of the watched system calls the process makes during `seconds`. */
async function syscallCounts(pid: number, seconds: number): Promise<Map<string, number>> {
  const events = ['raw_syscalls:sys_enter', ...watchedCalls.map((c) => `syscalls:sys_enter_${c}`)];
  const { stderr } = await run('perf', [
    'stat',
    '-x',
    ',',
    '-e',
    events.join(','),
    '-p',
    String(pid),
    '--',
    'sleep',
    String(seconds),
  ]);
  const counts = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const [count, , event] = line.split(',');
    const n = Number(count);
    if (event === 'raw_syscalls:sys_enter') counts.set('(all)', n);
    else if (event?.startsWith('syscalls:sys_enter_') && n > 0)
      counts.set(event.slice('syscalls:sys_enter_'.length), n);
  }
  return counts;
}

function cpuDelta(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  return {
    userMicros: after.userMicros - before.userMicros,
    systemMicros: after.systemMicros - before.systemMicros,
    runNanos: after.runNanos - before.runNanos,
    byThread: new Map([...after.byThread].map(([t, run]) => [t, run - (before.byThread.get(t) ?? 0)])),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const children = new ChildSet();
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-profile-'));
  const host = randomLoopbackAddress();
  const portRange = { min: 40000, max: 44999 };
  try {
    await mkdir(join(dir, 'server'));
    const options = { dir: join(dir, 'server'), host, portRange, name: `${args.kind}-t${args.threads}` };
    const server: ServerUnderTest =
      args.kind === 'coturn'
        ? await startCoturnProcess(children, { ...options, relayThreads: args.threads })
        : await startOurRelayProcess(children, {
            ...options,
            threads: args.threads,
            ...(args.coalesce !== undefined ? { coalesceMicros: args.coalesce } : {}),
          });
    const plan = cpuPlan(args.threads);
    pin(server.pid, plan.server);
    const window = 2;
    const observed: Array<{ rate: number; seconds: number; cpu: ThreadCpu; calls: Map<string, number> }> = [];
    const flood = await runFlood(repoRoot, server, {
      pairs: 100,
      peer: args.peer,
      clientPolls: args.poll,
      rates: args.rates,
      seconds: window + (args.record ? 5 : 3),
      loadgenCpu: plan.loadgen,
      during: async (rate) => {
        await new Promise((r) => setTimeout(r, 700));
        const before = threadCpu(server.pid);
        const started = performance.now();
        const calls = await syscallCounts(server.pid, window);
        const seconds = (performance.now() - started) / 1000;
        observed.push({ rate, seconds, cpu: cpuDelta(before, threadCpu(server.pid)), calls });
        if (args.record) {
          await mkdir(args.record, { recursive: true });
          await run('perf', [
            'record',
            '-F',
            '2000',
            '-g',
            '-o',
            join(args.record, `${server.name}-${rate}.data`),
            '-p',
            String(server.pid),
            '--',
            'sleep',
            '2',
          ]);
        }
      },
    });
    for (const o of observed) {
      const step = flood.steps.find((s) => s.offeredMessagesPerSecond === o.rate);
      if (!step) continue;
      // Relayed packets in the window, at the step's delivered rate.
      const packets = step.relayedPerSecond * o.seconds;
      const per = (n: number) => (n / packets).toFixed(3);
      console.log(
        `${server.name} ${args.peer} peer, offered ${o.rate} msg/s: relayed ${step.relayedPerSecond.toFixed(0)} pkt/s, loss ${step.lossPercent.toFixed(3)}%`,
      );
      console.log(
        `  per relayed packet: run ${(o.cpu.runNanos / 1000 / packets).toFixed(2)} µs (schedstat), ` +
          `user ${(o.cpu.userMicros / packets).toFixed(2)} µs, system ${(o.cpu.systemMicros / packets).toFixed(2)} µs (ticks)`,
      );
      const busy = [...o.cpu.byThread].filter(([, run]) => run / 1000 / packets >= 0.01).sort((a, b) => b[1] - a[1]);
      console.log(`  threads: ${busy.map(([t, run]) => `${t} ${(run / 1000 / packets).toFixed(2)} µs`).join(', ')}`);
      for (const [name, n] of [...o.calls.entries()].sort((a, b) => b[1] - a[1]))
        console.log(`    ${name.padEnd(16)} ${per(n)}  (${(n / o.seconds).toFixed(0)}/s)`);
    }
  } finally {
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
