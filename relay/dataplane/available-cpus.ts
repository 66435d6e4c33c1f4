// How many CPUs this process may use: the affinity mask (os.availableParallelism)
// capped by the CFS quota of its cgroup, cgroup v2 (cpu.max) or v1
// (cpu.cfs_quota_us / cpu.cfs_period_us), the tightest limit on the path from
// the cgroup up to its mount root. A Kubernetes CPU limit is such a quota.
// Node 24's availableParallelism() only sees the affinity mask: under a v1
// quota of half a CPU it still reports every CPU (seen on this kind of
// machine), hence this module.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

interface CgroupMount {
  root: string;
  mountPoint: string;
  v2: boolean;
  controllers: string[];
}

/** cgroup mounts from /proc/self/mountinfo: fields 4 (root) and 5 (mount point), type after " - ". */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({
      root: fields[3] ?? '/',
      mountPoint: fields[4] ?? '',
      v2: fstype === 'cgroup2',
      controllers: superOptions.split(','),
    });
  }
  return out;
}

/** Lines of /proc/self/cgroup: "hierarchy:controllers:path"; v2 is "0::path". */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers = '', ...path] = line.split(':');
      return { controllers: controllers ? controllers.split(',') : [], path: path.join(':') };
    });
}

/** CPUs a quota allows, rounded up (half a CPU still runs one thread); Infinity when unlimited. */
export function quotaCpus(quotaMicros: number, periodMicros: number): number {
  if (!(quotaMicros > 0) || !(periodMicros > 0)) return Infinity;
  return Math.max(1, Math.ceil(quotaMicros / periodMicros));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Directories from the process's cgroup up to the mount root, inside the mount point. */
function cgroupDirs(mount: CgroupMount, path: string): string[] {
  const rel = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  const dirs: string[] = [];
  for (let p = posix.normalize(`/${rel}`); ; p = posix.dirname(p)) {
    dirs.push(join(mount.mountPoint, p));
    if (p === '/') return dirs;
  }
}

/** The tightest CFS quota over the process's cgroups, in whole CPUs (Infinity: none). `fsRoot` is for tests. */
export function cgroupCpuLimit(fsRoot = '/'): number {
  const mountinfo = readText(join(fsRoot, 'proc/self/mountinfo'));
  const cgroups = readText(join(fsRoot, 'proc/self/cgroup'));
  if (!mountinfo || !cgroups) return Infinity;
  const entries = parseProcCgroup(cgroups);
  let limit = Infinity;
  for (const mount of parseCgroupMounts(mountinfo)) {
    const entry = mount.v2
      ? entries.find((e) => e.controllers.length === 0)
      : entries.find((e) => e.controllers.includes('cpu') && mount.controllers.includes('cpu'));
    if (!entry) continue;
    for (const dir of cgroupDirs(mount, entry.path)) {
      const at = (f: string) => readText(join(fsRoot, dir, f))?.trim();
      if (mount.v2) {
        const [quota, period] = (at('cpu.max') ?? 'max').split(/\s+/);
        if (quota && quota !== 'max') limit = Math.min(limit, quotaCpus(Number(quota), Number(period)));
      } else {
        limit = Math.min(limit, quotaCpus(Number(at('cpu.cfs_quota_us') ?? -1), Number(at('cpu.cfs_period_us') ?? 0)));
      }
    }
  }
  return limit;
}

/** CPUs available to this process: affinity, capped by the cgroup CPU quota. */
export function availableCpus(): number {
  return Math.max(1, Math.min(availableParallelism(), cgroupCpuLimit()));
}
