// Per-process resource readings from /proc, the same for every server under
// test: CPU time (all threads, ns resolution), resident memory, and how many
// UDP sockets are bound in a relay port range (= live allocations).
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** A /proc stat file: the command name and utime, stime (µs, tick resolution). */
function readStat(path: string): { name: string; userMicros: number; systemMicros: number } {
  const stat = readFileSync(path, 'utf8');
  // Fields after the parenthesised command name, which may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    userMicros: (Number(fields[11]) * 1_000_000) / ticksPerSecond,
    systemMicros: (Number(fields[12]) * 1_000_000) / ticksPerSecond,
  };
}

/** A thread's schedstat: nanoseconds it has run, and how many times it was put on a CPU. */
function schedstat(pid: number, tid: string): { runNanos: number; slices: number } {
  const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
  return { runNanos: Number(fields[0]), slices: Number(fields[2]) };
}

/** Schedstat of each live thread. */
function threadSchedstats(pid: number): Map<string, { runNanos: number; slices: number }> {
  const stats = new Map<string, { runNanos: number; slices: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      stats.set(tid, schedstat(pid, tid));
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return stats;
}

/** A point in a process's CPU time; `cpuMicrosSince` measures from it. */
export interface CpuSample {
  pid: number;
  /** Per live thread: run time (ns) and times put on a CPU. */
  threads: Map<string, { runNanos: number; slices: number }>;
  /** utime+stime of the whole process (live and exited threads) in µs: tick resolution. */
  ticks: number;
  /** stime alone (time in the kernel on the process's behalf), same resolution. */
  systemTicks: number;
}

export function cpuSample(pid: number): CpuSample {
  const { userMicros, systemMicros } = readStat(`/proc/${pid}/stat`);
  return { pid, threads: threadSchedstats(pid), ticks: userMicros + systemMicros, systemTicks: systemMicros };
}

/** Kernel time (system CPU, all threads) the process used since `from`, in µs at tick resolution. */
export function systemMicrosSince(from: CpuSample, to: CpuSample = cpuSample(from.pid)): number {
  return to.systemTicks - from.systemTicks;
}

/**
 * CPU time (user + system, all threads) the process used since `from`, in µs.
 * Summed from the per-thread run time with ns resolution; when a thread that
 * was there at `from` has exited meanwhile (its time is no longer listed), the
 * tick count (10 ms resolution) of the whole process is used instead.
 */
export function cpuMicrosSince(from: CpuSample, to: CpuSample = cpuSample(from.pid)): number {
  const nanos = sumSince(from, to, 'runNanos');
  return nanos === undefined ? to.ticks - from.ticks : nanos / 1000;
}

/**
 * How many times the process's threads were put on a CPU since `from` (schedstat's
 * timeslice count): nearly all of them wakeups from a blocking wait, each with the
 * context switch and, on a VM, the exit from idle that come with it. NaN when a
 * thread of `from` has exited meanwhile.
 */
export function wakeupsSince(from: CpuSample, to: CpuSample = cpuSample(from.pid)): number {
  return sumSince(from, to, 'slices') ?? Number.NaN;
}

/** The growth of one schedstat field over all threads; undefined when a thread of `from` is gone. */
function sumSince(from: CpuSample, to: CpuSample, field: 'runNanos' | 'slices'): number | undefined {
  let total = 0;
  for (const [tid, before] of from.threads) {
    const after = to.threads.get(tid);
    if (after === undefined) return undefined;
    total += after[field] - before[field];
  }
  for (const [tid, after] of to.threads) if (!from.threads.has(tid)) total += after[field];
  return total;
}

export const cpuSource = 'run time of all server threads from /proc/<pid>/task/*/schedstat (ns)';

/** User and system time (ticks) and run time (ns) of all live threads, for bench/profile.ts. */
export interface ThreadCpu {
  userMicros: number;
  systemMicros: number;
  runNanos: number;
  /** Run time (ns) per thread, keyed by `name/tid`. */
  byThread: Map<string, number>;
}
export function threadCpu(pid: number): ThreadCpu {
  const total: ThreadCpu = { userMicros: 0, systemMicros: 0, runNanos: 0, byThread: new Map() };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, userMicros, systemMicros } = readStat(`/proc/${pid}/task/${tid}/stat`);
      const run = schedstat(pid, tid).runNanos;
      total.userMicros += userMicros;
      total.systemMicros += systemMicros;
      total.runNanos += run;
      total.byThread.set(`${name}/${tid}`, run);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return total;
}

export function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** UDP sockets bound to `host` (IPv4) with a local port inside the range. */
export function boundUdpSockets(host: string, range: { min: number; max: number }): number {
  const hexHost = host
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  let count = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (!local) continue;
    const [ip, portHex] = local.split(':');
    const port = parseInt(portHex ?? '', 16);
    if (ip === hexHost && port >= range.min && port <= range.max) count++;
  }
  return count;
}
