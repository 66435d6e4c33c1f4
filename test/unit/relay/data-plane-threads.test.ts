// relay.threads' default: the CPUs available to the process. The cgroup
// readers run against fixture trees for cgroup v1 and v2, and against the
// machine's own cgroup hierarchy with a real quota and a real affinity mask.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupCpuLimit, parseCgroupMounts, quotaCpus } from '../../../relay/dataplane/available-cpus.js';

function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'turnrelay-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const V2_MOUNTINFO =
  '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const V1_MOUNTINFO = [
  '25 23 0:22 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory',
  '26 23 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:6 - cgroup cgroup rw,cpu,cpuacct',
].join('\n');

test('quotas round up to whole CPUs; no quota is no limit', () => {
  expect(quotaCpus(50_000, 100_000)).toBe(1);
  expect(quotaCpus(150_000, 100_000)).toBe(2);
  expect(quotaCpus(-1, 100_000)).toBe(Infinity);
  expect(quotaCpus(NaN, 100_000)).toBe(Infinity);
});

test('mountinfo: cgroup v1 and v2 mounts with their controllers, other filesystems ignored', () => {
  const mounts = parseCgroupMounts(`${V1_MOUNTINFO}\n22 1 8:1 / / rw - ext4 /dev/vda rw\n${V2_MOUNTINFO}`);
  expect(mounts).toEqual([
    { root: '/', mountPoint: '/sys/fs/cgroup/memory', v2: false, controllers: ['rw', 'memory'] },
    { root: '/', mountPoint: '/sys/fs/cgroup/cpu,cpuacct', v2: false, controllers: ['rw', 'cpu', 'cpuacct'] },
    { root: '/', mountPoint: '/sys/fs/cgroup', v2: true, controllers: ['rw', 'nsdelegate'] },
  ]);
});

test('cgroup v2: cpu.max of the cgroup and its parents, the tightest wins', () => {
  const pod = 'sys/fs/cgroup/kubepods/pod1';
  const root = fixture({
    'proc/self/mountinfo': V2_MOUNTINFO,
    'proc/self/cgroup': '0::/kubepods/pod1/c1\n',
    [`${pod}/c1/cpu.max`]: '250000 100000\n',
    [`${pod}/cpu.max`]: '150000 100000\n',
    'sys/fs/cgroup/kubepods/cpu.max': 'max 100000\n',
  });
  try {
    expect(cgroupCpuLimit(root)).toBe(2);
    writeFileSync(join(root, pod, 'cpu.max'), 'max 100000\n');
    expect(cgroupCpuLimit(root)).toBe(3);
    writeFileSync(join(root, pod, 'c1/cpu.max'), 'max 100000\n');
    expect(cgroupCpuLimit(root)).toBe(Infinity);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v1: cfs_quota_us / cfs_period_us of the cpu controller (a container sees its cgroup as the mount root)', () => {
  const root = fixture({
    'proc/self/mountinfo': V1_MOUNTINFO.replace('26 23 0:23 / /sys', '26 23 0:23 /kubepods/pod2/c2 /sys'),
    'proc/self/cgroup': '5:memory:/kubepods/pod2/c2\n4:cpu,cpuacct:/kubepods/pod2/c2\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
    'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
  });
  try {
    expect(cgroupCpuLimit(root)).toBe(1);
    writeFileSync(join(root, 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us'), '-1\n');
    expect(cgroupCpuLimit(root)).toBe(Infinity);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** Runs node in a child and prints [availableParallelism(), availableCpus()]. */
function probe(prefix: string[] = [], cgroupProcs?: string): [number, number] {
  const script = `import('${join(process.cwd(), 'relay/dataplane/available-cpus.ts')}').then((m) => console.log(JSON.stringify([require('node:os').availableParallelism(), m.availableCpus()])))`;
  const join_ = cgroupProcs ? `echo $$ > '${cgroupProcs}' && ` : '';
  const cmd = `${join_}exec ${prefix.join(' ')} '${process.execPath}' --import tsx -e "${script.replace(/"/g, '\\"')}"`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as [number, number];
}

test('this machine: an affinity mask of one CPU gives one thread', () => {
  expect(probe(['taskset', '-c', '0'])).toEqual([1, 1]);
});

test('this machine: a real CFS quota of half a CPU gives one thread', () => {
  // The cpu controller: a v1 hierarchy, or the v2 one when it carries the controller.
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const v1 = mounts.find((m) => !m.v2 && m.controllers.includes('cpu'));
  const v2 = mounts.find(
    (m) => m.v2 && readFileSync(join(m.mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu'),
  );
  const mount = v1 ?? v2;
  expect(mount).toBeDefined();
  const dir = join(mount!.mountPoint, `turnrelay-test-${process.pid}`);
  mkdirSync(dir);
  try {
    if (v1) writeFileSync(join(dir, 'cpu.cfs_quota_us'), '50000');
    else writeFileSync(join(dir, 'cpu.max'), '50000 100000');
    const [node, ours] = probe([], join(dir, 'cgroup.procs'));
    expect(ours).toBe(1);
    // What Node itself reports under the quota (recorded, not a requirement of ours).
    expect(node).toBeGreaterThanOrEqual(1);
    expect(node).toBeLessThanOrEqual(availableParallelism());
  } finally {
    rmdirSync(dir);
  }
});
