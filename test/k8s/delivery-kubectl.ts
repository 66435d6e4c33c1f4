// kubectl against the test cluster, the way users apply the chart output and
// deploy/install.yaml. Deliberately not the typed client: its object models
// drop keys they do not know (a CRD's `default` and `x-kubernetes-*`, or a
// misspelt field in a template), which would hide exactly the mistakes these
// tests look for.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildControlPlane } from './harness/binaries.js';
import { testKubeconfigPath } from './harness/cluster.js';

const run = promisify(execFile);
let kubectlPath: string | undefined;

export async function kubectl(args: string[], input?: string): Promise<string> {
  kubectlPath ??= join(await buildControlPlane({ quiet: true }), 'kubectl');
  const child = run(kubectlPath, ['--kubeconfig', testKubeconfigPath(), ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin!.end(input);
  try {
    return (await child).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** Server-side apply of YAML text; dry-run on the server when asked. Unknown fields are errors. */
export async function applyYaml(
  yamlText: string,
  opts: { fieldManager: string; dryRun?: boolean; forceConflicts?: boolean; namespace?: string },
): Promise<string> {
  const args = ['apply', '--server-side', `--field-manager=${opts.fieldManager}`, '--validate=strict', '-f', '-'];
  if (opts.dryRun) args.push('--dry-run=server');
  if (opts.forceConflicts) args.push('--force-conflicts');
  if (opts.namespace) args.push('-n', opts.namespace);
  return kubectl(args, yamlText);
}
