// MetalLB in L2 mode for the pod tests: LoadBalancer Services get their
// address from a real implementation, as in a cluster without a cloud. Its
// controller and speaker are built from MetalLB's Go module
// (test/tools/metallb/build.sh) and run as the pods of MetalLB's own Helm chart
// (its RBAC, Deployment, DaemonSet), adapted only where this node differs: no
// registry, so each container runs its binary from a read-only hostPath on the
// locally built pause image (a static binary needs nothing else), and the
// speaker runs as root as in MetalLB's own image (NET_RAW for ARP). The
// speaker answers ARP for the pool's addresses on a bridge of their own in the
// node's namespace (LB_NETWORK); test clients sit in namespaces of their own
// attached to it by a veth, with no route anywhere else (createLbClient).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { helmBinary } from '../../../scripts/delivery/helm.js';
import { applyYaml, kubectl } from '../../k8s/delivery-kubectl.js';
import { findBuildScript, runBuildScript } from '../../k8s/harness/binaries.js';
import { NODE_NAME } from '../../k8s/harness/node.js';
import { execInNetns } from '../../k8s/harness/node-network.js';
import { waitFor } from '../../k8s/operator-fixtures.js';

const run = promisify(execFile);

/** The load-balancer network in the node's namespace; the node itself has .1. */
export const LB_NETWORK = {
  bridge: 'trlb0',
  nodeAddress: '10.78.0.1',
  prefixLength: 24,
  /** MetalLB's IPAddressPool: what LoadBalancer Services get. */
  pool: '10.78.0.240/28',
} as const;

export const METALLB_NAMESPACE = 'metallb-system';
const FIELD_MANAGER = 'turnrelay-pods-metallb';
const BINARIES_MOUNT = '/metallb';

/** Folder with controller, speaker, crds/ and chart/ (built once per go.mod/go.sum). */
export function buildMetallb(): Promise<string> {
  return runBuildScript(findBuildScript(join('test', 'tools', 'metallb', 'build.sh')), 'MetalLB');
}

function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

interface ManifestObject {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec: PodSpec } };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  env?: unknown[] | null;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: { initialDelaySeconds?: number };
  livenessProbe?: { initialDelaySeconds?: number };
}
interface PodSpec {
  containers: Container[];
  volumes?: Record<string, unknown>[];
}

/**
 * The chart's objects as rendered by helm: no CRDs (applied from the module's
 * config/crd), no FRR (L2 only), no memberlist (one node), no validating
 * webhook (its certificate rotation needs more than a test needs).
 */
function renderChart(dir: string, image: string): ManifestObject[] {
  const rendered = execFileSync(
    helmBinary(),
    [
      'template',
      'metallb',
      join(dir, 'chart'),
      '--namespace',
      METALLB_NAMESPACE,
      '--set',
      'crds.enabled=false,frrk8s.enabled=false,speaker.frr.enabled=false,speaker.memberlist.enabled=false,controller.webhookMode=disabled',
    ],
    { encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  const objects = parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => !!o && o.kind !== 'ValidatingWebhookConfiguration');
  for (const object of objects) {
    const pod = object.spec?.template?.spec;
    if (!pod) continue;
    pod.volumes = [...(pod.volumes ?? []), { name: 'metallb-binaries', hostPath: { path: dir, type: 'Directory' } }];
    for (const container of pod.containers) {
      // The chart renders `env:` empty for the controller; strict apply takes no null.
      if (container.env === null) delete container.env;
      container.image = image;
      container.command = [`${BINARIES_MOUNT}/${container.name}`];
      container.volumeMounts = [
        ...(container.volumeMounts ?? []),
        { name: 'metallb-binaries', mountPath: BINARIES_MOUNT, readOnly: true },
      ];
      // The pause image's user is 65535; MetalLB's speaker image runs as root.
      if (container.name === 'speaker') container.securityContext = { ...container.securityContext, runAsUser: 0 };
      // A test node starts in seconds: no 10 s wait before the first probe.
      for (const probe of [container.readinessProbe, container.livenessProbe]) if (probe) probe.initialDelaySeconds = 1;
    }
  }
  return objects;
}

export interface MetalLb {
  /** The bridge's MAC: what the speaker answers ARP requests with. */
  bridgeMac: string;
  uninstall(): Promise<void>;
}

/**
 * Creates the load-balancer bridge, installs MetalLB's CRDs and chart, waits
 * for the controller and speaker pods, then configures an IPAddressPool with
 * an L2Advertisement on the bridge only.
 */
export async function installMetallb(nodeNetns: string): Promise<MetalLb> {
  const dir = await realpath(await buildMetallb());
  const { bridge, nodeAddress, prefixLength, pool } = LB_NETWORK;
  // A fixed MAC: a bridge otherwise takes its ports' lowest one, which would
  // change as clients attach, after the speaker learned it.
  const bridgeMac = randomMac();
  await execInNetns(nodeNetns, 'ip', ['link', 'add', bridge, 'address', bridgeMac, 'type', 'bridge']);
  await execInNetns(nodeNetns, 'ip', ['addr', 'add', `${nodeAddress}/${prefixLength}`, 'dev', bridge]);
  await execInNetns(nodeNetns, 'ip', ['link', 'set', bridge, 'up']);

  const crdDir = join(dir, 'crds');
  for (const file of (await readdir(crdDir)).sort())
    await applyYaml(await readFile(join(crdDir, file), 'utf8'), { fieldManager: FIELD_MANAGER });
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crdDir]);
  await kubectl(['create', 'namespace', METALLB_NAMESPACE]);
  const image = await pauseImage();
  const objects = renderChart(dir, image);
  await applyYaml(objects.map((o) => stringify(o)).join('---\n'), { fieldManager: FIELD_MANAGER });
  await waitFor(
    'the MetalLB controller and speaker pods Ready',
    async () => {
      const pods = JSON.parse(await kubectl(['get', 'pods', '-n', METALLB_NAMESPACE, '-o', 'json'])) as {
        items: { status?: { conditions?: { type: string; status: string }[] } }[];
      };
      const ready = pods.items.filter((pod) =>
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return pods.items.length === 2 && ready.length === 2;
    },
    120_000,
    500,
  );
  await applyYaml(
    [
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', spec: { addresses: [pool] }, name: 'test-pool' },
      {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        spec: { ipAddressPools: ['test-pool'], interfaces: [bridge] },
        name: 'test-l2',
      },
    ]
      .map(({ name, ...o }) => stringify({ ...o, metadata: { name, namespace: METALLB_NAMESPACE } }))
      .join('---\n'),
    { fieldManager: FIELD_MANAGER },
  );
  return {
    bridgeMac,
    uninstall: async () => {
      await kubectl(['delete', 'namespace', METALLB_NAMESPACE, '--wait=true', '--timeout=120s']).catch(() => undefined);
      for (const object of objects.filter((o) => o.kind.startsWith('Cluster')))
        await kubectl(['delete', object.kind, object.metadata.name, '--ignore-not-found']);
      await kubectl(['delete', '-f', crdDir, '--ignore-not-found']);
      await execInNetns(nodeNetns, 'ip', ['link', 'delete', bridge]).catch(() => undefined);
    },
  };
}

/** The pause image the node imported (its name carries the version). */
async function pauseImage(): Promise<string> {
  const node = JSON.parse(await kubectl(['get', 'node', NODE_NAME, '-o', 'json'])) as {
    status: { images: { names: string[] }[] };
  };
  const name = node.status.images.flatMap((image) => image.names).find((n) => n.startsWith('registry.k8s.io/pause:'));
  if (!name) throw new Error(`node ${NODE_NAME} has no registry.k8s.io/pause image`);
  return name;
}

export interface LbClient {
  /** /run/netns/NAME, for nsenter --net (turnutils_uclient, Chromium). */
  path: string;
  address: string;
  /** The neighbour entry for an address on the client's interface, if any. */
  neighbour(ip: string): Promise<{ lladdr?: string; state: string[] } | undefined>;
  remove(): Promise<void>;
}

const liveClients = new Set<string>();
process.on('exit', () => {
  for (const name of liveClients) {
    try {
      execFileSync('ip', ['netns', 'delete', name]);
    } catch {
      // already gone
    }
  }
});

/**
 * A client network namespace on the load-balancer bridge: only `lo` and
 * `eth0` with `address`, no route beyond the bridge's subnet, so it reaches a
 * LoadBalancer IP only if the speaker answers ARP for it there.
 */
export async function createLbClient(nodeNetns: string, address = '10.78.0.2'): Promise<LbClient> {
  const suffix = randomBytes(3).toString('hex');
  const name = `turnrelay-lbc-${suffix}`;
  const path = `/run/netns/${name}`;
  await run('ip', ['netns', 'add', name]);
  liveClients.add(name);
  const remove = async () => {
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
    liveClients.delete(name);
  };
  try {
    const port = `trlbc${suffix}`;
    await execInNetns(nodeNetns, 'ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
    await execInNetns(nodeNetns, 'ip', ['link', 'set', port, 'master', LB_NETWORK.bridge, 'up']);
    await execInNetns(path, 'ip', ['link', 'set', 'lo', 'up']);
    await execInNetns(path, 'ip', ['addr', 'add', `${address}/${LB_NETWORK.prefixLength}`, 'dev', 'eth0']);
    await execInNetns(path, 'ip', ['link', 'set', 'eth0', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    path,
    address,
    neighbour: async (ip) => {
      const entries = JSON.parse(await execInNetns(path, 'ip', ['-j', 'neigh', 'show', 'to', ip, 'dev', 'eth0'])) as {
        lladdr?: string;
        state?: string[];
      }[];
      const entry = entries[0];
      return entry ? { ...(entry.lladdr ? { lladdr: entry.lladdr } : {}), state: entry.state ?? [] } : undefined;
    },
    remove,
  };
}
