// One real Kubernetes node for the pod tests: kube-scheduler, containerd (with
// Debian's runc and CNI plugins), kubelet and kube-proxy (iptables), all in
// the cluster's network namespace, with the locally built images imported.
// Everything it writes lives in its temp dir; what kubelet and containerd put
// elsewhere on the host is recorded first and put back by stop() (host-state.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { buildContainerd, buildImages } from './node-builds.js';
import { ComponentProcess } from './component-process.js';
import {
  createCgroupRoot,
  removeCgroupRoot,
  restoreHost,
  snapshotHost,
  sweepDeadNodes,
  unmountBelow,
  writeNodeOwner,
  type HostSnapshot,
} from './host-state.js';
import { writeKubeconfig } from './kubeconfig-file.js';
import { NODE_NETWORK, type NodeNetns } from './node-network.js';
import { get, waitUntil } from './probes.js';

const run = promisify(execFile);

export const NODE_NAME = 'turnrelay-node';
const RUNC = '/usr/sbin/runc';
const CNI_BIN_DIR = '/usr/lib/cni';

export interface NodeStartOptions {
  dir: string;
  netns: NodeNetns;
  /** Folder with kubelet, kube-scheduler, kube-proxy, kubectl. */
  binDir: string;
  /** API server URL inside the namespace. */
  server: string;
  caPem: string;
  token: string;
  /** Used to check the node's readiness from the host. */
  hostServer: string;
  adminToken: string;
  readyTimeoutMs: number;
}

export interface NodeImage {
  name: string;
  archive: string;
}

export class TestNode {
  private readonly root: string;
  private readonly socket: string;
  private readonly cgroupRoot: string;
  private snapshot: HostSnapshot | undefined;
  private containerdBin = '';
  private readonly processes: ComponentProcess[] = [];
  private kubelet: ComponentProcess | undefined;
  images: NodeImage[] = [];

  constructor(private readonly options: NodeStartOptions) {
    this.root = join(options.dir, 'node');
    this.socket = join(this.root, 'containerd', 'containerd.sock');
    this.cgroupRoot = `/${options.netns.name}`;
  }

  private kubeconfig(): string {
    return join(this.root, 'node.kubeconfig');
  }

  private spawn(name: string, binary: string, args: string[], env: Record<string, string> = {}): ComponentProcess {
    const component = new ComponentProcess(name, binary, args, join(this.options.dir, 'logs', `${name}.log`), {
      netnsPath: this.options.netns.path,
      env,
    });
    this.processes.push(component);
    return component;
  }

  async start(): Promise<void> {
    for (const binary of [RUNC, join(CNI_BIN_DIR, 'bridge'), '/usr/sbin/iptables']) {
      if (!existsSync(binary)) throw new Error(`test node: ${binary} is missing (run scripts/install-system-deps.sh)`);
    }
    const [containerdDir, images] = await Promise.all([buildContainerd(), buildImages()]);
    this.containerdBin = containerdDir;
    this.images = images;
    await sweepDeadNodes(dirname(this.options.dir), (socket) => killShims(socket));
    await mkdir(this.root, { recursive: true });
    this.snapshot = await snapshotHost(dirname(this.options.dir));
    await writeNodeOwner(this.root, {
      pid: process.pid,
      netns: this.options.netns.name,
      cgroupRoot: this.cgroupRoot,
      socket: this.socket,
      sysctls: this.snapshot.sysctls,
      preexisting: [...this.snapshot.preexisting],
    });
    await createCgroupRoot(this.snapshot, this.cgroupRoot);
    await writeKubeconfig(this.kubeconfig(), {
      server: this.options.server,
      caPem: this.options.caPem,
      user: 'turnrelay-test-node',
      token: this.options.token,
    });
    this.startScheduler();
    await this.startContainerd();
    await this.importImages();
    await this.startKubelet();
    await this.startKubeProxy();
    await this.waitReady();
  }

  private startScheduler(): void {
    this.spawn('kube-scheduler', join(this.options.binDir, 'kube-scheduler'), [
      `--kubeconfig=${this.kubeconfig()}`,
      `--authentication-kubeconfig=${this.kubeconfig()}`,
      `--authorization-kubeconfig=${this.kubeconfig()}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=10259',
    ]);
  }

  private async startContainerd(): Promise<void> {
    const base = join(this.root, 'containerd');
    const cni = join(this.root, 'cni');
    await mkdir(join(cni, 'net.d'), { recursive: true });
    await writeFile(join(cni, 'net.d', '10-turnrelay.conflist'), JSON.stringify(this.cniConfig(cni), null, 2));
    const config = `version = 3
root = "${base}/root"
state = "${base}/state"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${this.socket}"
[metrics]
  address = ""
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${this.images.find((image) => image.name.startsWith('registry.k8s.io/pause:'))!.name}"
[plugins.'io.containerd.cri.v1.runtime']
  # This VM drops CAP_SYS_RESOURCE: no process may lower its oom_score_adj.
  restrict_oom_score_adj = true
  # containerd 2.x sets net.ipv4.ip_unprivileged_port_start=0 in every pod
  # network namespace by default; stricter runtimes (and containerd 1.x) do
  # not. Off here, so a pod binds a port below 1024 only if its own spec
  # (the operator's rendering) asks for it.
  enable_unprivileged_ports = false
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "${RUNC}"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${CNI_BIN_DIR}"]
    conf_dir = "${cni}/net.d"
`;
    const configFile = join(base, 'config.toml');
    await mkdir(base, { recursive: true });
    await writeFile(configFile, config);
    const containerd = this.spawn('containerd', join(this.containerdBin, 'containerd'), [`--config=${configFile}`], {
      PATH: `${this.containerdBin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    });
    await waitUntil(
      'containerd socket',
      containerd,
      async () => {
        if (!existsSync(this.socket)) return false;
        return this.ctr(['version']).then(
          () => true,
          () => false,
        );
      },
      this.options.readyTimeoutMs,
    );
  }

  private cniConfig(cni: string): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: this.options.netns.name,
      plugins: [
        {
          type: 'bridge',
          bridge: NODE_NETWORK.bridge,
          isGateway: true,
          // Pods reach Service IPs (the API server's too) through the node;
          // the node's namespace itself has no route out.
          isDefaultGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_NETWORK.podSubnet, gateway: NODE_NETWORK.podGateway }]],
            dataDir: join(cni, 'ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
  }

  private async ctr(args: string[]): Promise<string> {
    return (
      await run(join(this.containerdBin, 'ctr'), ['--address', this.socket, '--namespace', 'k8s.io', ...args], {
        maxBuffer: 16 << 20,
      })
    ).stdout;
  }

  private async importImages(): Promise<void> {
    for (const image of this.images) {
      await this.ctr(['images', 'import', '--no-unpack=false', image.archive]).catch((error: unknown) => {
        const { stderr } = error as { stderr?: string };
        throw new Error(`test node: importing ${image.name} from ${image.archive} failed: ${stderr ?? String(error)}`, {
          cause: error,
        });
      });
    }
  }

  private async startKubelet(): Promise<void> {
    const dir = join(this.root, 'kubelet');
    await mkdir(dir, { recursive: true });
    const resolvConf = join(this.root, 'resolv.conf');
    await writeFile(resolvConf, ''); // no DNS: nothing may resolve names outside the namespace
    const config = {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: NODE_NETWORK.nodeIp,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      containerRuntimeEndpoint: `unix://${this.socket}`,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: this.cgroupRoot,
      failCgroupV1: false,
      failSwapOn: false,
      podLogsDir: join(this.root, 'pod-logs'),
      volumePluginDir: join(this.root, 'volume-plugins'),
      resolvConf,
      // Imported images cannot be pulled again: never collect them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      // Fast volume updates: kubelet re-syncs mounted ConfigMaps/Secrets on each pod sync.
      syncFrequency: '10s',
      configMapAndSecretChangeDetectionStrategy: 'Watch',
      serializeImagePulls: false,
      maxPods: 60,
    };
    const configFile = join(this.root, 'kubelet-config.yaml');
    await writeFile(configFile, stringify(config));
    this.kubelet = this.spawn('kubelet', join(this.options.binDir, 'kubelet'), [
      `--config=${configFile}`,
      `--kubeconfig=${this.kubeconfig()}`,
      `--root-dir=${dir}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_NETWORK.nodeIp}`,
      '--v=1',
    ]);
  }

  private async startKubeProxy(): Promise<void> {
    const config = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: this.kubeconfig() },
      hostnameOverride: NODE_NAME,
      bindAddress: NODE_NETWORK.nodeIp,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '127.0.0.1:10249',
      clusterCIDR: NODE_NETWORK.podSubnet,
      mode: 'iptables',
      iptables: { localhostNodePorts: false },
      // Leave the (host-wide) conntrack table size and timeouts alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    };
    const configFile = join(this.root, 'kube-proxy-config.yaml');
    await writeFile(configFile, stringify(config));
    this.spawn('kube-proxy', join(this.options.binDir, 'kube-proxy'), [`--config=${configFile}`]);
  }

  private async waitReady(): Promise<void> {
    const probe = { caPem: this.options.caPem, token: this.options.adminToken };
    await waitUntil(
      `node ${NODE_NAME} Ready`,
      this.kubelet!,
      async () => {
        const res = await get(`${this.options.hostServer}/api/v1/nodes/${NODE_NAME}`, probe);
        if (res.status !== 200) return false;
        const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
        return (
          node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ??
          false
        );
      },
      this.options.readyTimeoutMs,
    );
    for (const component of this.processes) {
      if (component.exitState !== undefined)
        throw new Error(`test node: ${component.name} ${component.exitState}:\n${component.logTail()}`);
    }
  }

  /** Force-deletes every pod and waits until kubelet has torn down their sandboxes (network, mounts). */
  async drainPods(kubectl: string, kubeconfig: string): Promise<void> {
    if (!this.kubelet || this.kubelet.exitState !== undefined) return;
    await run(
      kubectl,
      [
        '--kubeconfig',
        kubeconfig,
        'delete',
        'pods',
        '--all',
        '--all-namespaces',
        '--grace-period=0',
        '--force',
        '--wait=false',
      ],
      {
        timeout: 30_000,
      },
    ).catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const running = await this.ctr(['tasks', 'list']).then(
        (out) =>
          out
            .split('\n')
            .slice(1)
            .filter((line) => /\bRUNNING\b/.test(line)).length,
        () => 0,
      );
      if (running === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async stop(): Promise<void> {
    // Reverse start order: kube-proxy and kubelet before containerd.
    for (const component of [...this.processes].reverse()) await component.stop(10_000);
    await killShims(this.socket);
    if (this.snapshot) await removeCgroupRoot(this.snapshot, this.cgroupRoot);
    await unmountBelow(this.root);
    if (this.snapshot) await restoreHost(this.snapshot, this.root);
  }
}

/** containerd's shims outlive it by design; a node's are the ones pointed at its socket. */
async function killShims(socket: string): Promise<void> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('containerd-shim') && cmdline.includes(socket)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
}
