// Installing the operator on the pods cluster the ways users do: the Helm
// chart, or deploy/install.yaml. Test files of the pods project share their
// worker's cluster and run on it one after another, in any order. A file that
// only needs *an* operator uses useInstalledOperator(): it takes the one
// already running, or installs the manifest and leaves it for the next file.
// The install test, which needs a cluster without one, removes it first.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CHART_DIR, REPO_ROOT, helmBinary } from '../../../scripts/delivery/helm.js';
import { applyYaml, kubectl } from '../../k8s/delivery-kubectl.js';
import { testKubeconfigPath } from '../../k8s/harness/cluster.js';
import { waitFor } from '../../k8s/operator-fixtures.js';

const run = promisify(execFile);
export const OPERATOR_NAMESPACE = 'turnrelay-system';
export const OPERATOR_DEPLOYMENT = 'turnrelay-operator';
export const RELEASE = 'turnrelay';
export const FIELD_MANAGER = 'turnrelay-pods-test';
const MANIFEST = join(REPO_ROOT, 'deploy/install.yaml');

export async function helmInstallOperator(): Promise<void> {
  await run(
    helmBinary(),
    [
      'install',
      RELEASE,
      CHART_DIR,
      '--namespace',
      OPERATOR_NAMESPACE,
      '--create-namespace',
      '--kubeconfig',
      testKubeconfigPath(),
      '--wait',
      '--timeout',
      '4m',
    ],
    { cwd: REPO_ROOT },
  );
}

export async function helmUninstallOperator(): Promise<void> {
  await run(
    helmBinary(),
    ['uninstall', RELEASE, '--namespace', OPERATOR_NAMESPACE, '--kubeconfig', testKubeconfigPath(), '--wait'],
    { cwd: REPO_ROOT },
  );
}

/** Server-side applies deploy/install.yaml; takes over the CRD a Helm release left behind (Helm never deletes CRDs). */
export async function applyInstallManifest(): Promise<void> {
  await applyYaml(await readFile(MANIFEST, 'utf8'), { fieldManager: FIELD_MANAGER, forceConflicts: true });
}

async function operatorAvailable(kc: KubeConfig): Promise<boolean | undefined> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deployment = await apps
    .readNamespacedDeployment({ name: OPERATOR_DEPLOYMENT, namespace: OPERATOR_NAMESPACE })
    .catch(() => undefined);
  if (!deployment) return undefined;
  return (deployment.status?.availableReplicas ?? 0) > 0;
}

/** An operator to reconcile this file's TurnRelays: the one already installed, or deploy/install.yaml applied now. */
export async function useInstalledOperator(kc: KubeConfig): Promise<void> {
  if ((await operatorAvailable(kc)) === undefined) await applyInstallManifest();
  await waitFor('an available operator', async () => (await operatorAvailable(kc)) === true, 240_000, 1000);
}

/** Removes an operator a file before left installed (the manifest's objects, or a Helm release), CRD included. */
export async function removeInstalledOperator(): Promise<void> {
  const kubeconfig = testKubeconfigPath();
  const releases = await run(helmBinary(), [
    'list',
    '-q',
    '--namespace',
    OPERATOR_NAMESPACE,
    '--kubeconfig',
    kubeconfig,
  ]);
  if (releases.stdout.split('\n').includes(RELEASE)) await helmUninstallOperator();
  await kubectl(['delete', '--ignore-not-found', '--wait', '--timeout=3m', '-f', MANIFEST]);
}
