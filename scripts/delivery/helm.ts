// Runs the helm CLI built from test/tools/helm (cached per go.mod/go.sum hash;
// the first call on a fresh machine compiles it, which takes minutes).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CHART_DIR = 'charts/turnrelay-operator';

let cached: string | undefined;

export function helmBinary(): string {
  cached ??= execFileSync('bash', [resolve(REPO_ROOT, 'test/tools/helm/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return cached;
}

/** Runs helm in the repository root and returns its stdout; throws with helm's stderr on failure. */
export function helm(args: string[]): string {
  return execFileSync(helmBinary(), args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    // No user config or repository cache from the machine leaks into renders.
    env: {
      ...process.env,
      HELM_CONFIG_HOME: '/nonexistent',
      HELM_CACHE_HOME: '/tmp/turnrelay-helm-cache',
      HELM_DATA_HOME: '/nonexistent',
    },
  });
}
