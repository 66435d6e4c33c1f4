// Where the control-plane binaries come from: an explicit folder, or
// test/controlplane/build.sh, which builds them once per go.mod/go.sum into
// .cache/controlplane/<hash>/ and prints that folder.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTROL_PLANE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

/** A build script of the repository, found upwards from this module (which may run compiled from elsewhere in the repo). */
export function findBuildScript(inRepo: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, inRepo);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find ${inRepo} above ${fileURLToPath(import.meta.url)}`);
  }
}

export const BUILD_SCRIPT = findBuildScript(join('test', 'controlplane', 'build.sh'));

export interface BuildOptions {
  /** Variables added for the script. */
  env?: Record<string, string>;
  /** Keeps its progress off stderr. */
  quiet?: boolean;
}

/** Runs build.sh (fast when already built) and returns the binaries' folder. */
export function buildControlPlane(options: BuildOptions = {}): Promise<string> {
  return runBuildScript(BUILD_SCRIPT, 'control plane', options);
}

/**
 * Runs one of the cached build scripts (fast when already built) and returns
 * the last line it printed: the folder with what it built.
 */
export async function runBuildScript(script: string, what: string, options: BuildOptions = {}): Promise<string> {
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (!options.quiet) process.stderr.write(chunk); // a cold build takes minutes: show progress
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    const tail = stderr.trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(`${what} build failed (${script} exited with ${code}):\n${tail}`);
  }
  const dir = stdout.trim().split('\n').at(-1);
  if (!dir) throw new Error(`${script} printed no output folder`);
  return dir;
}

/** Absolute paths of the binaries in binDir; throws naming each one missing. */
export async function locateBinaries(binDir: string): Promise<Record<ControlPlaneBinary, string>> {
  const paths = Object.fromEntries(CONTROL_PLANE_BINARIES.map((name) => [name, join(binDir, name)])) as Record<
    ControlPlaneBinary,
    string
  >;
  const missing: string[] = [];
  for (const path of Object.values(paths)) {
    try {
      await access(path, constants.X_OK);
    } catch {
      missing.push(path);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `control plane binary not found or not executable: ${missing.join(', ')} ` +
        `(build them with test/controlplane/build.sh, or pass the folder that has them as binDir)`,
    );
  }
  return paths;
}
