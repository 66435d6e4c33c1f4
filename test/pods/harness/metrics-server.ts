// A real metrics-server (built from its Go module by test/tools/metrics-server)
// for the pods cluster, so the HPA controller reads pod CPU the way it does in
// any cluster: kubelet's /metrics/resource → metrics-server → the aggregated
// metrics.k8s.io API → kube-controller-manager.
//
// It runs as a process in the node's network namespace (where the API server
// runs too), under the upstream RBAC of its module (rbac.yaml, least
// privilege) with a ServiceAccount token. The API server reaches it the usual
// way: APIService v1beta1.metrics.k8s.io → Service metrics-server in
// kube-system → its cluster IP, which kube-proxy routes to the process through
// an EndpointSlice naming the node address (there is no pod to select). The
// API server verifies its serving certificate against the APIService's
// caBundle; it trusts the API server's proxied identity through the front-proxy
// CA the harness gives the API server (test/k8s/harness/front-proxy.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { generateSelfSignedCert } from '../../../relay/config/dev-defaults.js';
import { REPO_ROOT } from '../../../scripts/delivery/helm.js';
import { applyYaml, kubectl } from '../../k8s/delivery-kubectl.js';
import { runBuildScript } from '../../k8s/harness/binaries.js';
import { ComponentProcess } from '../../k8s/harness/component-process.js';
import { waitFor } from '../../k8s/operator-fixtures.js';
import { writeInClusterKubeconfig } from './in-cluster-kubeconfig.js';

const run = promisify(execFile);
const TOOL_DIR = join(REPO_ROOT, 'test/tools/metrics-server');
const NAMESPACE = 'kube-system';
const NAME = 'metrics-server';
const FIELD_MANAGER = 'turnrelay-pods-metrics-server';
/** Its port on the node address, inside the node's own namespace (nothing else of the cluster listens there). */
const PORT = 4443;
/** The shortest resolution metrics-server accepts; the HPA sees a new CPU rate about this often. */
const METRIC_RESOLUTION = '10s';

export interface MetricsServer {
  /** Pod CPU as metrics.k8s.io reports it, in millicores by pod name. */
  podCpuMillis(namespace: string): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/** The binary (built and cached on first use) and the module source it came from. */
async function locate(): Promise<{ binary: string; moduleDir: string }> {
  const binary = await runBuildScript(join(TOOL_DIR, 'build.sh'), 'metrics-server');
  const { stdout: moduleDir } = await run('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/metrics-server'], {
    cwd: TOOL_DIR,
  });
  return { binary, moduleDir: moduleDir.trim() };
}

/** The module's own manifest (upstream text, read at run time): RBAC, APIService. */
async function upstreamManifest(moduleDir: string, file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(moduleDir, 'manifests/base', file), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Record<string, unknown> | null)
    .filter((doc): doc is Record<string, unknown> => doc !== null);
}

export async function startMetricsServer(options: {
  kc: KubeConfig;
  netnsPath: string;
  nodeIp: string;
}): Promise<MetricsServer> {
  const { binary, moduleDir } = await locate();
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-metrics-server-'));
  let server: ComponentProcess | undefined;
  const cleanUp = async () => {
    await kubectl(['delete', 'apiservice', 'v1beta1.metrics.k8s.io', '--ignore-not-found']);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await applyYaml(
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: await upstreamManifest(moduleDir, 'rbac.yaml') }),
      {
        fieldManager: FIELD_MANAGER,
      },
    );
    const kubeconfig = join(dir, 'kubeconfig');
    await writeInClusterKubeconfig(kubeconfig, NAMESPACE, NAME, { admin: options.kc, expirationSeconds: 7200 });

    const serviceHost = `${NAME}.${NAMESPACE}.svc`;
    const serving = await generateSelfSignedCert({
      commonName: serviceHost,
      dnsNames: [serviceHost],
      ips: [options.nodeIp],
    });
    await writeFile(join(dir, 'tls.crt'), serving.certPem);
    await writeFile(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });

    server = new ComponentProcess(
      NAME,
      binary,
      [
        `--bind-address=${options.nodeIp}`,
        `--secure-port=${PORT}`,
        `--tls-cert-file=${join(dir, 'tls.crt')}`,
        `--tls-private-key-file=${join(dir, 'tls.key')}`,
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--kubelet-preferred-address-types=InternalIP',
        // The test kubelet serves a certificate it signs itself at start
        // (no serving CA in this cluster). Acceptable here: the connection
        // never leaves the node's private network namespace, which has no
        // route out, and the kubelet serves anonymous requests anyway.
        '--kubelet-insecure-tls',
        `--metric-resolution=${METRIC_RESOLUTION}`,
        '--kubelet-request-timeout=5s',
        '--profiling=false',
      ],
      join(dir, 'metrics-server.log'),
      { netnsPath: options.netnsPath },
    );

    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: NAME, namespace: NAMESPACE },
      // No selector: the endpoint is the process on the node address.
      spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: PORT }] },
    };
    const endpoints = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: NAME,
        namespace: NAMESPACE,
        labels: { 'kubernetes.io/service-name': NAME, 'endpointslice.kubernetes.io/managed-by': FIELD_MANAGER },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [options.nodeIp], conditions: { ready: true } }],
      ports: [{ name: 'https', port: PORT, protocol: 'TCP' }],
    };
    const [apiService] = await upstreamManifest(moduleDir, 'apiservice.yaml');
    const apiServiceSpec = { ...(apiService!.spec as Record<string, unknown>) };
    // Verified against its certificate instead of the upstream insecureSkipTLSVerify.
    delete apiServiceSpec.insecureSkipTLSVerify;
    apiServiceSpec.caBundle = Buffer.from(serving.certPem).toString('base64');
    await applyYaml(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [service, endpoints, { ...apiService, spec: apiServiceSpec }],
      }),
      { fieldManager: FIELD_MANAGER, forceConflicts: true },
    );

    const started = server;
    const serverAlive = () => {
      if (started.exitState !== undefined)
        throw new Error(`metrics-server ${started.exitState}:\n${started.logTail()}`);
    };
    await waitFor(
      'APIService v1beta1.metrics.k8s.io Available',
      async () => {
        serverAlive();
        const status = JSON.parse(
          await kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status}']),
        ) as { conditions?: { type: string; status: string }[] } | '';
        return status !== '' && status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      },
      120_000,
      1000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nmetrics-server log:\n${started.logTail()}`, { cause: error });
    });
    return {
      async podCpuMillis(namespace: string) {
        serverAlive();
        const list = JSON.parse(
          await kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`]),
        ) as { items: { metadata: { name: string }; containers: { usage: { cpu: string } }[] }[] };
        return new Map(
          list.items.map((pod) => [
            pod.metadata.name,
            pod.containers.reduce((sum, container) => sum + cpuMillis(container.usage.cpu), 0),
          ]),
        );
      },
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}

/** A CPU quantity as metrics-server writes it (nanocores "123456n", micro "12u", milli "5m" or cores) in millicores. */
export function cpuMillis(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(quantity);
  if (!match) throw new Error(`unexpected CPU quantity ${quantity}`);
  const value = Number(match[1]);
  const suffix = match[2] as 'n' | 'u' | 'm' | undefined;
  const scale = suffix ? { n: 1e-6, u: 1e-3, m: 1 }[suffix] : 1000;
  return value * scale;
}
