// What a kubelet node changes on the host outside its temp dir, recorded
// before it starts and put back after it stops: kernel sysctls kubelet sets,
// the node's cgroup subtree, the pod network namespaces' mounts and the few
// paths kubelet, containerd and CNI hard-code.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { mkdir, readlink, rm, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** kubelet sets these for its own defaults (protectKernelDefaults: false). */
const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];

/** Hard-coded paths that exist only while a node runs (removed if they did not exist before). */
const HARD_CODED_DIRS = [
  '/var/lib/kubelet',
  '/run/containerd',
  '/var/lib/cni',
  '/etc/cni',
  '/var/log/containers',
  '/var/log/pods',
];

export interface HostSnapshot {
  sysctls: Record<string, string>;
  preexisting: Set<string>;
  /** Cgroup v1/v2 mount points, each gets <mount>/<cgroupRoot>. */
  cgroupMounts: string[];
}

/**
 * What the host looks like without any test node. While another node runs,
 * the host already carries its changes, so the state it recorded is taken
 * over: whichever node stops last puts back the original.
 */
export async function snapshotHost(parentDir: string): Promise<HostSnapshot> {
  const running = await liveNodeDirs(parentDir);
  const earlier = running.length > 0 ? await readOwner(running[0]!) : undefined;
  const sysctls: Record<string, string> = {};
  for (const key of KUBELET_SYSCTLS) sysctls[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
  return {
    sysctls: earlier?.sysctls ?? sysctls,
    preexisting: new Set(earlier?.preexisting ?? HARD_CODED_DIRS.filter((path) => existsSync(path))),
    cgroupMounts: cgroupMounts(),
  };
}

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => {
      const type = fields[fields.indexOf('-') + 1];
      return type === 'cgroup' || type === 'cgroup2';
    })
    .map((fields) => fields[4]!);
}

/** kubelet wants its --cgroup-root to exist in every hierarchy. */
export async function createCgroupRoot(snapshot: HostSnapshot, cgroupRoot: string): Promise<void> {
  for (const mount of snapshot.cgroupMounts) await mkdir(join(mount, cgroupRoot), { recursive: true });
}

/** Kills whatever still runs in the node's cgroups, then removes them bottom-up. */
export async function removeCgroupRoot(snapshot: HostSnapshot, cgroupRoot: string): Promise<void> {
  for (const mount of snapshot.cgroupMounts) {
    const root = join(mount, cgroupRoot);
    if (!existsSync(root)) continue;
    for (let attempt = 0; attempt < 20; attempt++) {
      const pids = pidsUnder(root);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    removeTree(root);
  }
}

function pidsUnder(dir: string): number[] {
  const pids: number[] = [];
  const procs = join(dir, 'cgroup.procs');
  if (existsSync(procs)) pids.push(...readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number));
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) pids.push(...pidsUnder(join(dir, entry.name)));
  return pids;
}

function removeTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) removeTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // busy: a process escaped the kill; left for the caller's leak check to report
  }
}

/** Unmounts everything mounted at or below `prefix`, deepest first. */
export async function unmountBelow(prefix: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mount): mount is string => !!mount && (mount === prefix || mount.startsWith(`${prefix}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) await run('umount', ['-l', mount]).catch(() => undefined);
}

/**
 * Puts sysctls back, removes hard-coded paths the node created and container
 * log links into its dir. While another node of this machine still runs (its
 * owner process alive), the shared paths and sysctls are that node's too and
 * stay as they are; the last node to stop puts them back.
 */
export async function restoreHost(snapshot: HostSnapshot, nodeDir: string): Promise<void> {
  const logLinks = '/var/log/containers';
  if (existsSync(logLinks)) {
    for (const name of await readdir(logLinks)) {
      const target = await readlink(join(logLinks, name)).catch(() => '');
      if (target.startsWith(nodeDir)) await rm(join(logLinks, name), { force: true });
    }
  }
  if ((await liveNodeDirs(join(nodeDir, '..', '..'))).some((dir) => join(dir, 'node') !== nodeDir)) return;
  for (const [key, value] of Object.entries(snapshot.sysctls)) {
    try {
      if (readFileSync(`/proc/sys/${key}`, 'utf8').trim() !== value) writeFileSync(`/proc/sys/${key}`, value);
    } catch {
      // read-only in this environment: nothing was changed either
    }
  }
  for (const path of HARD_CODED_DIRS) {
    if (!snapshot.preexisting.has(path)) {
      await unmountBelow(path);
      await rm(path, { recursive: true, force: true });
    }
  }
}

/** Written into a running node's dir, so a later run can clean up after a test process that died without stop(). */
export interface NodeOwner {
  pid: number;
  netns: string;
  cgroupRoot: string;
  socket: string;
  /** The host's values before kubelet changed them, put back if the owner died. */
  sysctls: Record<string, string>;
  /** Hard-coded paths that existed before any node ran (absent in owner files of older runs: then none is removed). */
  preexisting?: string[];
}

const OWNER_FILE = 'owner.json';

export async function writeNodeOwner(nodeDir: string, owner: NodeOwner): Promise<void> {
  await writeFile(join(nodeDir, OWNER_FILE), JSON.stringify(owner));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Control-plane dirs under parentDir whose node's owner process is alive. */
async function liveNodeDirs(parentDir: string): Promise<string[]> {
  const live: string[] = [];
  for (const entry of await readdir(parentDir).catch(() => [] as string[])) {
    if (!entry.startsWith('turnrelay-controlplane-')) continue;
    const owner = await readOwner(join(parentDir, entry));
    if (owner && alive(owner.pid)) live.push(join(parentDir, entry));
  }
  return live;
}

async function readOwner(dir: string): Promise<NodeOwner | undefined> {
  return readFile(join(dir, 'node', OWNER_FILE), 'utf8').then(
    (text) => JSON.parse(text) as NodeOwner,
    () => undefined,
  );
}

/**
 * Removes what nodes of dead test processes left behind (a SIGKILLed or
 * interrupted Jest): their pods' processes, shims, mounts, cgroups, network
 * namespaces and temp dirs. Live nodes are left alone.
 */
export async function sweepDeadNodes(parentDir: string, killShimsOf: (socket: string) => Promise<void>): Promise<void> {
  const entries = await readdir(parentDir).catch(() => [] as string[]);
  let swept = 0;
  let live = 0;
  let sysctls: Record<string, string> | undefined;
  let preexisting: Set<string> | undefined;
  for (const entry of entries.filter((name) => name.startsWith('turnrelay-controlplane-'))) {
    const dir = join(parentDir, entry);
    const owner = await readOwner(dir);
    if (!owner) continue;
    if (alive(owner.pid)) {
      live += 1;
      continue;
    }
    swept += 1;
    sysctls ??= owner.sysctls;
    preexisting ??= owner.preexisting && new Set(owner.preexisting);
    await killShimsOf(owner.socket);
    await removeCgroupRoot({ sysctls: {}, preexisting: new Set(), cgroupMounts: cgroupMounts() }, owner.cgroupRoot);
    await unmountBelow(dir);
    await run('ip', ['netns', 'delete', owner.netns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  // The hard-coded paths belong to no one once the last node is gone.
  if (swept > 0 && live === 0) {
    for (const [key, value] of Object.entries(sysctls ?? {})) {
      try {
        writeFileSync(`/proc/sys/${key}`, value);
      } catch {
        // not writable here: nothing was changed either
      }
    }
    for (const path of HARD_CODED_DIRS) {
      if (preexisting?.has(path) ?? true) continue;
      await unmountBelow(path);
      await rm(path, { recursive: true, force: true });
    }
  }
}
