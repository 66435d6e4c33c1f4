// A real Kubernetes control plane for tests: etcd, kube-apiserver and
// kube-controller-manager built from the Kubernetes Go modules
// (test/controlplane), on free loopback ports, with fresh credentials and a
// temp dir that is removed on stop and on any start failure. By default no
// scheduler or kubelet: pods never run, so tests that need an available
// Deployment patch its status themselves. With `node: true` the whole cluster
// moves into a network namespace of its own and gets a real node (node.ts):
// scheduler, containerd, kubelet, kube-proxy, pods.
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, mkdir, access, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildControlPlane, locateBinaries, type ControlPlaneBinary } from './binaries.js';
import { ComponentProcess } from './component-process.js';
import { writeCredentials, type ControlPlaneCredentials } from './credentials.js';
import { frontProxyFlags, writeFrontProxyCerts, type FrontProxyFiles } from './front-proxy.js';
import { writeKubeconfig } from './kubeconfig-file.js';
import { assertPortFree, freePorts, PortInUseError } from './ports.js';
import { exitedError, get, waitUntil } from './probes.js';
import { createNodeNetns, forwardIntoNetns, NODE_NETWORK, type Forwarder, type NodeNetns } from './node-network.js';
import { NODE_NAME, TestNode, type NodeImage } from './node.js';

export interface ControlPlaneOptions {
  /** Folder with etcd, kube-apiserver, kube-controller-manager. Default:
   * $TURNRELAY_CONTROLPLANE_BIN_DIR, else whatever test/controlplane/build.sh builds. */
  binDir?: string;
  /** kube-controller-manager controllers to run (default: DEFAULT_CONTROLLERS). */
  controllers?: string[];
  /** Fixed ports instead of free ones. */
  ports?: { etcdClient?: number; etcdPeer?: number; apiServer?: number };
  /** Where the cluster's temp dir is made (default: the OS temp dir). */
  parentDir?: string;
  /** Per-component readiness timeout (default 120 s: a cold start on 2 cores is slow). */
  readyTimeoutMs?: number;
  /** Run the cluster in a network namespace of its own with one real node (needs root). */
  node?: boolean;
}

export interface ControlPlane {
  /** Kubeconfig for a system:masters admin (bearer token), mode 0600. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM bundle that verifies the API server's serving certificate. */
  caPem: string;
  /** The temp dir with data, logs and credentials (removed by stop()). */
  dir: string;
  /** Where the binaries came from (build.sh also puts kubectl there). */
  binDir: string;
  /** With `node: true`: the node's namespace (run clients in it with `nsenter --net=<path>`) and its images. */
  node?: { netns: NodeNetns; name: string; ip: string; images: NodeImage[] };
  /** Process ids, e.g. for measuring memory. */
  pids(): Record<'etcd' | 'kubeApiServer' | 'kubeControllerManager', number | undefined>;
  stop(): Promise<void>;
  /** Stops kube-apiserver and starts it again on the same port and etcd, then waits until ready. */
  restartApiServer(): Promise<void>;
}

/**
 * Garbage collector, namespace deletion, Deployments → ReplicaSets, default
 * ServiceAccounts and their token secrets, and aggregated ClusterRoles
 * (admin/edit/view), which RBAC tests of a chart rely on.
 */
export const DEFAULT_CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'deployment-controller',
  'replicaset-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'clusterrole-aggregation-controller',
];

/** What real pods need on top: Service endpoints for kube-proxy, the CA ConfigMap projected service-account volumes mount, PDBs, HPAs, node taints, DaemonSets. */
export const NODE_CONTROLLERS = [
  ...DEFAULT_CONTROLLERS,
  'endpoints-controller',
  'endpointslice-controller',
  'root-ca-certificate-publisher-controller',
  'disruption-controller',
  'horizontal-pod-autoscaler-controller',
  'pod-garbage-collector-controller',
  // Lifts the not-ready taint kubelet registers the node with once it is Ready.
  'node-lifecycle-controller',
  // Node agents such as MetalLB's speaker run as DaemonSets.
  'daemonset-controller',
];

/**
 * The HPA controller of the test cluster acts within seconds instead of
 * minutes (test cluster settings, not product defaults): it syncs every 5 s,
 * and an HPA without a behavior of its own waits 15 s of lower
 * recommendations before scaling down. The CPU initialization period keeps
 * its default (5 min), in which CPU samples that include a pod's start-up are
 * ignored: a relay's start would otherwise look like load.
 */
const NODE_MODE_AUTOSCALER_FLAGS = [
  '--horizontal-pod-autoscaler-sync-period=5s',
  '--horizontal-pod-autoscaler-downscale-stabilization=15s',
];

const HOST = '127.0.0.1';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

// Temp dirs of control planes not yet stopped: removed when the process exits
// without stop() (a crashed test run); their processes die by the same hook
// in component-process.ts, registered first since that module loads first.
const liveDirs = new Set<string>();
process.on('exit', () => {
  if (process.env.TURNRELAY_CONTROLPLANE_KEEP_DIR) return;
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/** Attempts when a freely chosen port is taken by someone else before a component binds it. */
const PORT_ATTEMPTS = 3;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = options.binDir ?? process.env.TURNRELAY_CONTROLPLANE_BIN_DIR ?? (await buildControlPlane());
  const binaries = await locateBinaries(binDir);
  const portsChosenHere = Object.values(options.ports ?? {}).every((port: number | undefined) => port === undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, binaries, options);
    } catch (error) {
      if (!(error instanceof PortInUseError && portsChosenHere && attempt < PORT_ATTEMPTS)) throw error;
    }
  }
}

async function startOnce(
  binDir: string,
  binaries: Record<ControlPlaneBinary, string>,
  options: ControlPlaneOptions,
): Promise<ControlPlane> {
  const ports = await choosePorts(options.ports ?? {});
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'turnrelay-controlplane-'));
  liveDirs.add(dir);
  let netns: NodeNetns | undefined;
  try {
    netns = options.node ? await createNodeNetns() : undefined;
  } catch (error) {
    liveDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const cluster = new RunningControlPlane(dir, binDir, binaries, ports, options, netns);
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
}

async function choosePorts(fixed: ControlPlaneOptions['ports'] & object): Promise<Ports> {
  const [etcdClient, etcdPeer, apiServer] = await freePorts(3);
  const ports: Ports = {
    etcdClient: fixed.etcdClient ?? etcdClient!,
    etcdPeer: fixed.etcdPeer ?? etcdPeer!,
    apiServer: fixed.apiServer ?? apiServer!,
  };
  await assertPortFree(ports.etcdClient, 'etcd clients');
  await assertPortFree(ports.etcdPeer, 'etcd peers');
  await assertPortFree(ports.apiServer, 'kube-apiserver');
  return ports;
}

class RunningControlPlane implements ControlPlane {
  readonly kubeconfigPath: string;
  server: string;
  /** The API server as components inside the cluster's network reach it. */
  private readonly innerServer: string;
  caPem = '';
  /** Host-side ports into the node's namespace, by name (etcd for its probe, the API server). */
  private readonly forwarders = new Map<string, Forwarder>();
  private testNode: TestNode | undefined;
  node: ControlPlane['node'];
  private credentials: ControlPlaneCredentials | undefined;
  private frontProxy: FrontProxyFiles | undefined;
  private etcd: ComponentProcess | undefined;
  private apiServer: ComponentProcess | undefined;
  private controllerManager: ComponentProcess | undefined;
  private apiServerStarts = 0;
  private stopped = false;
  private readonly readyTimeoutMs: number;
  private readonly controllers: string[];

  constructor(
    readonly dir: string,
    readonly binDir: string,
    private readonly binaries: Record<ControlPlaneBinary, string>,
    private readonly ports: Ports,
    options: ControlPlaneOptions,
    private readonly netns: NodeNetns | undefined,
  ) {
    this.kubeconfigPath = join(dir, 'admin.kubeconfig');
    this.innerServer = `https://${netns ? NODE_NETWORK.nodeIp : HOST}:${ports.apiServer}`;
    this.server = this.innerServer; // replaced by the host-side forwarder in node mode
    this.readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
    this.controllers = options.controllers ?? (netns ? NODE_CONTROLLERS : DEFAULT_CONTROLLERS);
  }

  /** The URL under which the host reaches `url` (one inside the node's namespace in node mode). */
  private async hostUrl(name: string, url: string): Promise<string> {
    if (!this.netns) return url;
    const target = new URL(url);
    let forwarder = this.forwarders.get(name);
    if (!forwarder) {
      forwarder = await forwardIntoNetns(
        this.netns,
        join(this.dir, `${name}.sock`),
        target.hostname,
        Number(target.port),
      );
      this.forwarders.set(name, forwarder);
    }
    return `${target.protocol}//${HOST}:${forwarder.port}`;
  }

  private component(name: string, binary: string, args: string[], logFile: string): ComponentProcess {
    return new ComponentProcess(
      name,
      binary,
      args,
      join(this.dir, 'logs', logFile),
      this.netns ? { netnsPath: this.netns.path } : {},
    );
  }

  pids(): ReturnType<ControlPlane['pids']> {
    return {
      etcd: this.etcd?.pid,
      kubeApiServer: this.apiServer?.pid,
      kubeControllerManager: this.controllerManager?.pid,
    };
  }

  async start(): Promise<void> {
    await mkdir(join(this.dir, 'logs'));
    this.credentials = await writeCredentials(this.dir);
    this.frontProxy = await writeFrontProxyCerts(join(this.dir, 'front-proxy'));
    await this.startEtcd();
    await this.startApiServer();
    await writeKubeconfig(this.kubeconfigPath, {
      server: this.server,
      caPem: this.caPem,
      user: 'turnrelay-test-admin',
      token: this.credentials.adminToken,
    });
    await this.startControllerManager();
    if (this.netns) {
      const credentials = this.requireCredentials();
      this.testNode = new TestNode({
        dir: this.dir,
        netns: this.netns,
        binDir: this.binDir,
        server: this.innerServer,
        caPem: this.caPem,
        token: credentials.nodeToken,
        hostServer: this.server,
        adminToken: credentials.adminToken,
        readyTimeoutMs: this.readyTimeoutMs,
      });
      await this.testNode.start();
      this.node = { netns: this.netns, name: NODE_NAME, ip: NODE_NETWORK.nodeIp, images: this.testNode.images };
    }
  }

  private async startEtcd(): Promise<void> {
    const { etcdClient, etcdPeer } = this.ports;
    const clientUrl = `http://${HOST}:${etcdClient}`;
    const peerUrl = `http://${HOST}:${etcdPeer}`;
    const etcd = (this.etcd = this.component(
      'etcd',
      this.binaries.etcd,
      [
        '--name=turnrelay-test',
        `--data-dir=${join(this.dir, 'etcd')}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=turnrelay-test=${peerUrl}`,
        '--unsafe-no-fsync', // throwaway data: durability only costs time
        '--log-level=warn',
      ],
      'etcd.log',
    ));
    await waitUntil(
      'etcd /health',
      etcd,
      async () => {
        const res = await get(`${await this.hostUrl('etcd', clientUrl)}/health`);
        return res.status === 200 && (JSON.parse(res.body) as { health?: unknown }).health === 'true';
      },
      this.readyTimeoutMs,
    );
  }

  private async startApiServer(): Promise<void> {
    const credentials = this.requireCredentials();
    const certDir = join(this.dir, 'apiserver-certs');
    this.apiServerStarts += 1;
    if (this.netns && this.apiServerStarts === 1) await writeNodeModeServingCert(certDir);
    const apiServer = (this.apiServer = this.component(
      'kube-apiserver',
      this.binaries['kube-apiserver'],
      [
        `--etcd-servers=http://${HOST}:${this.ports.etcdClient}`,
        ...(this.netns
          ? [
              // Reachable on the node IP (kubelet, pods through the kubernetes
              // Service) and on loopback (the forwarder), inside the namespace only.
              '--bind-address=0.0.0.0',
              `--advertise-address=${NODE_NETWORK.nodeIp}`,
              '--kubelet-preferred-address-types=InternalIP',
            ]
          : [
              `--bind-address=${HOST}`,
              `--advertise-address=${HOST}`,
              // It refuses a loopback advertise address; no pods reach it anyway.
              '--endpoint-reconciler-type=none',
            ]),
        `--secure-port=${this.ports.apiServer}`,
        // Self-signed serving certificate, written here on first start and
        // reused after a restart, so clients keep trusting the same CA.
        `--cert-dir=${certDir}`,
        `--token-auth-file=${credentials.tokenFile}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${credentials.serviceAccountPublicKeyFile}`,
        `--service-account-signing-key-file=${credentials.serviceAccountPrivateKeyFile}`,
        `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
        '--allow-privileged=true',
        '--profiling=false',
        // The aggregation layer, for extension API servers (metrics-server).
        ...(this.frontProxy ? frontProxyFlags(this.frontProxy) : []),
      ],
      `kube-apiserver.${this.apiServerStarts}.log`,
    ));
    this.server = await this.hostUrl('apiserver', this.innerServer);

    const caFile = join(certDir, 'apiserver.crt');
    await waitUntil('its self-signed serving certificate', apiServer, () => fileExists(caFile), this.readyTimeoutMs);
    this.caPem = await readFile(caFile, 'utf8');
    const probe = { caPem: this.caPem, token: credentials.adminToken };
    await waitUntil(
      '/readyz',
      apiServer,
      async () => (await get(`${this.server}/readyz`, probe)).status === 200,
      this.readyTimeoutMs,
    );
    await waitUntil(
      'the default namespace',
      apiServer,
      async () => {
        return (await get(`${this.server}/api/v1/namespaces/default`, probe)).status === 200;
      },
      this.readyTimeoutMs,
    );
  }

  private async startControllerManager(): Promise<void> {
    const credentials = this.requireCredentials();
    const kubeconfig = join(this.dir, 'kube-controller-manager.kubeconfig');
    await writeKubeconfig(kubeconfig, {
      server: this.innerServer,
      caPem: this.caPem,
      user: 'system:kube-controller-manager',
      token: credentials.controllerManagerToken,
    });
    const controllerManager = (this.controllerManager = this.component(
      'kube-controller-manager',
      this.binaries['kube-controller-manager'],
      [
        `--kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        `--controllers=${this.controllers.join(',')}`,
        `--service-account-private-key-file=${credentials.serviceAccountPrivateKeyFile}`,
        `--root-ca-file=${join(this.dir, 'apiserver-certs', 'apiserver.crt')}`,
        '--secure-port=0', // nothing probes it; one port fewer to collide on
        '--profiling=false',
        ...(this.netns ? NODE_MODE_AUTOSCALER_FLAGS : []),
      ],
      'kube-controller-manager.log',
    ));
    if (this.controllers.includes('serviceaccount-controller')) {
      // The default ServiceAccount appearing proves the controllers are running.
      const probe = { caPem: this.caPem, token: credentials.adminToken };
      await waitUntil(
        'the default ServiceAccount (created by its serviceaccount controller)',
        controllerManager,
        async () => {
          return (await get(`${this.server}/api/v1/namespaces/default/serviceaccounts/default`, probe)).status === 200;
        },
        this.readyTimeoutMs,
      );
    } else {
      // No observable effect to wait for: just make sure it did not die at once.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (controllerManager.exitState !== undefined) throw exitedError(controllerManager, 'starting');
    }
  }

  async restartApiServer(): Promise<void> {
    if (this.stopped) throw new Error('control plane: restartApiServer() after stop()');
    await this.apiServer?.stop();
    await this.startApiServer();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Clients first, storage last, so nothing logs spurious connection errors.
    // The node goes after the controllers (nothing recreates its pods) and
    // before the API server (kubelet tears the pods down through it).
    await this.controllerManager?.stop();
    if (this.testNode) {
      await this.testNode.drainPods(join(this.binDir, 'kubectl'), this.kubeconfigPath);
      await this.testNode.stop();
    }
    await this.apiServer?.stop();
    await this.etcd?.stop();
    for (const forwarder of this.forwarders.values()) await forwarder.close();
    await this.netns?.remove();
    liveDirs.delete(this.dir);
    if (process.env.TURNRELAY_CONTROLPLANE_KEEP_DIR) {
      process.stderr.write(`control plane: kept ${this.dir} (TURNRELAY_CONTROLPLANE_KEEP_DIR is set)\n`);
      return;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private requireCredentials(): ControlPlaneCredentials {
    if (!this.credentials) throw new Error('control plane: credentials not written yet');
    return this.credentials;
  }
}

/**
 * kube-apiserver's own self-signed certificate names its bind and advertise
 * addresses only; in node mode it must also be valid for the host-side
 * forwarder (127.0.0.1) and the kubernetes Service pods use. Written where
 * --cert-dir looks, so the server picks it up instead of generating one.
 */
async function writeNodeModeServingCert(certDir: string): Promise<void> {
  const { generateSelfSignedCert } = await import('../../../relay/config/dev-defaults.js');
  const { certPem, keyPem } = await generateSelfSignedCert({
    commonName: 'kube-apiserver',
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ],
    ips: ['127.0.0.1', NODE_NETWORK.nodeIp, NODE_NETWORK.serviceCidr.replace(/0\/\d+$/, '1')],
  });
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'apiserver.crt'), certPem);
  await writeFile(join(certDir, 'apiserver.key'), keyPem, { mode: 0o600 });
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
