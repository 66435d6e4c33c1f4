// Per-process resource readings from /proc, the same for every server under
// test: CPU time (utime+stime of all threads), resident memory, and how many
// UDP sockets are bound in a relay port range (= live allocations).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Process CPU time (user + system, all threads) in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / ticksPerSecond;
}

export const cpuResolutionMicros = 1_000_000 / ticksPerSecond;

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
