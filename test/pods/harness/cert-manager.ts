// Real cert-manager on the pods cluster: the controller, webhook and
// cainjector built from the cert-manager Go module (test/tools/cert-manager),
// run as processes inside the node's network namespace, the way their pods
// would run on the node. What the upstream Helm chart (from the same module)
// installs around them is applied as is: the module's CRDs, namespace-scoped
// and cluster RBAC, ServiceAccounts, Services and the validating and mutating
// webhook configurations with cainjector's annotation. Left out are only the
// objects that would start pods (Deployments, the startupapicheck Job). The
// webhook Service gets an EndpointSlice pointing at the webhook process on the
// node address, so the API server calls it through the Service (kube-proxy),
// with the CA bundle the real cainjector injects from the webhook's own CA
// Secret. Each component talks to the API server with a token of its own
// ServiceAccount, under the chart's RBAC; leader election is off.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { helmBinary } from '../../../scripts/delivery/helm.js';
import { applyYaml, kubectl } from '../../k8s/delivery-kubectl.js';
import { findBuildScript, runBuildScript } from '../../k8s/harness/binaries.js';
import { ComponentProcess } from '../../k8s/harness/component-process.js';
import { NODE_NETWORK } from '../../k8s/harness/node-network.js';
import { freePorts } from '../../k8s/harness/ports.js';
import { waitFor } from '../../k8s/operator-fixtures.js';
import { writeInClusterKubeconfig } from './in-cluster-kubeconfig.js';

const run = promisify(execFile);
export const CERT_MANAGER_NAMESPACE = 'cert-manager';
const FIELD_MANAGER = 'turnrelay-pods-cert-manager';
const WEBHOOK = 'cert-manager-webhook';
/** Kinds the chart renders that would start pods: cert-manager runs as processes here instead. */
const SKIPPED_KINDS = new Set(['Deployment', 'Job', 'PodDisruptionBudget']);

export interface CertManager {
  /** Milliseconds from starting the processes until the API server's calls to the webhook succeed. */
  startupMs: number;
  /** Stops the three processes and removes what was installed for them. */
  stop(): Promise<void>;
}

/** Folder with controller, webhook, cainjector, crds/ and chart/ (cached by test/tools/cert-manager/build.sh). */
export function buildCertManager(): Promise<string> {
  return runBuildScript(findBuildScript(join('test', 'tools', 'cert-manager', 'build.sh')), 'cert-manager');
}

type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> } };

/** The upstream chart's objects minus those that would start pods or run as Helm hooks. */
async function chartObjects(chartDir: string): Promise<Manifest[]> {
  const { stdout } = await run(
    helmBinary(),
    ['template', 'cert-manager', chartDir, '--namespace', CERT_MANAGER_NAMESPACE, '--set', 'crds.enabled=false'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => !!doc && !SKIPPED_KINDS.has(doc.kind))
    .filter((doc) => !doc.metadata.annotations?.['helm.sh/hook']);
}

export async function startCertManager(options: { admin: KubeConfig; netnsPath: string }): Promise<CertManager> {
  const dir = await buildCertManager();
  const logDir = await mkdtemp(join(tmpdir(), 'turnrelay-cert-manager-'));
  const processes: ComponentProcess[] = [];
  const installed: string[] = [];
  const stop = async () => {
    for (const process of processes) await process.stop();
    if (installed.length)
      await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], installed.join('\n---\n'));
    await rm(logDir, { recursive: true, force: true });
  };
  try {
    // The module's own CRD YAML, applied one file at a time (each is large).
    const crdFiles = (await readdir(join(dir, 'crds'))).sort();
    for (const file of crdFiles)
      await applyYaml(await readFile(join(dir, 'crds', file), 'utf8'), {
        fieldManager: FIELD_MANAGER,
        forceConflicts: true,
      });
    // <group>_<plural>.yaml holds the CRD <plural>.<group>.
    const crdNames = crdFiles.map((file) => {
      const [group, plural] = file.replace(/\.yaml$/, '').split('_');
      return `crd/${plural}.${group}`;
    });
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames]);

    const namespace = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: CERT_MANAGER_NAMESPACE },
    });
    await applyYaml(namespace, { fieldManager: FIELD_MANAGER });
    const objects = await chartObjects(join(dir, 'chart'));
    const [webhookPort, healthzPort] = await freePorts(2);
    const endpoints = JSON.stringify({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${WEBHOOK}-process`,
        namespace: CERT_MANAGER_NAMESPACE,
        labels: { 'kubernetes.io/service-name': WEBHOOK, 'endpointslice.kubernetes.io/managed-by': 'turnrelay-tests' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [NODE_NETWORK.nodeIp], conditions: { ready: true } }],
      ports: [{ name: 'https', port: webhookPort, protocol: 'TCP' }],
    });
    const manifests = [...objects.map((object) => JSON.stringify(object)), endpoints];
    await applyYaml(manifests.join('\n---\n'), { fieldManager: FIELD_MANAGER, forceConflicts: true });
    // Removed on stop (above all the webhook configurations, which would
    // refuse every cert-manager write once the webhook is gone); the CRDs stay.
    installed.push(...manifests, namespace);

    const kubeconfigFor = async (serviceAccount: string) => {
      const path = join(logDir, `${serviceAccount}.kubeconfig`);
      await writeInClusterKubeconfig(path, CERT_MANAGER_NAMESPACE, serviceAccount, { admin: options.admin });
      return path;
    };
    const start = (name: string, args: string[]) =>
      processes.push(
        new ComponentProcess(`cert-manager ${name}`, join(dir, name), args, join(logDir, `${name}.log`), {
          netnsPath: options.netnsPath,
        }),
      );

    const started = Date.now();
    start('webhook', [
      `--kubeconfig=${await kubeconfigFor(WEBHOOK)}`,
      `--secure-port=${webhookPort}`,
      `--healthz-port=${healthzPort}`,
      '--metrics-listen-address=0',
      `--dynamic-serving-ca-secret-namespace=${CERT_MANAGER_NAMESPACE}`,
      `--dynamic-serving-ca-secret-name=${WEBHOOK}-ca`,
      `--dynamic-serving-dns-names=${WEBHOOK},${WEBHOOK}.${CERT_MANAGER_NAMESPACE},${WEBHOOK}.${CERT_MANAGER_NAMESPACE}.svc`,
    ]);
    start('cainjector', [`--kubeconfig=${await kubeconfigFor('cert-manager-cainjector')}`]);
    start('controller', [
      `--kubeconfig=${await kubeconfigFor('cert-manager')}`,
      `--cluster-resource-namespace=${CERT_MANAGER_NAMESPACE}`,
    ]);

    // Ready when the API server's call to the webhook (through the Service,
    // verified with the injected CA bundle) admits a dry-run ClusterIssuer.
    const probe = JSON.stringify({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'turnrelay-webhook-probe' },
      spec: { selfSigned: {} },
    });
    await waitFor(
      'the API server admitting a ClusterIssuer through the cert-manager webhook',
      async () => {
        const exited = processes.find((p) => p.exitState !== undefined);
        if (exited) throw new Error(`${exited.name} ${exited.exitState}:\n${exited.logTail()}`);
        await applyYaml(probe, { fieldManager: FIELD_MANAGER, dryRun: true });
        return true;
      },
      120_000,
      500,
    ).catch((error: unknown) => {
      const tails = processes.map((p) => `--- ${p.name}\n${p.logTail(15)}`).join('\n');
      throw new Error(`${(error as Error).message}\n${tails}`, { cause: error });
    });
    return { startupMs: Date.now() - started, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
