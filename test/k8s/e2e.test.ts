// End to end: what the chart installs and the operator deploys really relays
// WebRTC. The operator runs in-process under the chart's ServiceAccount and
// RBAC (a token from the TokenRequest API, so a missing permission fails the
// test); a TurnRelay with UDP, TCP and TLS listeners is reconciled; the relay
// is then started the way the kubelet would start its pod: the rendered
// Deployment's container args, with the ConfigMap and Secret keys projected
// into files (kubelet's atomic ..data symlink layout, so updates are swaps).
// Credentials are minted by the CLI from the cluster and Chromium exchanges
// data through the relay over each transport. Then the auth Secret rotates:
// old and new credentials both work without restarting the relay. Finally the
// TurnRelay is deleted and its children are garbage-collected.
//
// Remapped because the test has no pod network namespace: listener, relay and
// admin hosts go to 127.0.0.1 and the admin port to a free one; listener
// ports and the relay port range are chosen free in the TurnRelay itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { OperatorHandle } from '../../operator/main.js';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';
import { restPassword } from '../../relay/auth/rest-credentials.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { renderChart } from '../../scripts/delivery/chart-render.js';
import { REPO_ROOT, helmBinary } from '../../scripts/delivery/helm.js';
import { launchChromium, runTurnPair, type PairResult } from '../interop/harness/chromium.js';
import { freeUdpTcpPort, randomPortBlock } from '../interop/harness/ports.js';
import { waitForStunBinding } from '../interop/harness/stun-probe.js';
import { applyYaml, kubectl } from './delivery-kubectl.js';
import {
  expectRelayed,
  mintWithCli as mintCredentials,
  TRANSPORTS,
  urlFor,
  type IceConfiguration,
  type TurnTransport,
} from './ice-credentials.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeConfigForServiceAccount,
  testKubeConfig,
} from './harness/cluster.js';
import {
  adminRest,
  authSecretLines,
  condition,
  getRelay,
  installTurnRelayCrd,
  liveChildren,
  markRelayPodsReady,
  startTestOperator,
  waitFor,
} from './operator-fixtures.js';

const RELAY = 'e2e';
const FIELD_MANAGER = 'turnrelay-e2e-test';
const TSX = join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');

let namespace: string;
let release: string;
let work: string;
let rest: KubeRest;
let operator: OperatorHandle | undefined;
let relayProcess: ChildProcess | undefined;
let relayLog = '';
let browser: Browser | undefined;
let clockOffsetMs = 0;
let clusterScopedRbac: KubernetesObject[] = [];

// ---- the kubelet's part -------------------------------------------------

/** Projects files into dir like kubelet's atomic writer: dir/..<ts>/<files>, dir/..data → ..<ts>, dir/<file> → ..data/<file>. */
function projectVolume(dir: string, files: Record<string, Buffer | string>): void {
  mkdirSync(dir, { recursive: true });
  const previous = readdirSync(dir).filter((f) => f.startsWith('..') && f !== '..data');
  const version = join(dir, `..${Date.now()}_${randomBytes(4).toString('hex')}`);
  mkdirSync(version);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(version, name), content, { mode: 0o440 });
  symlinkSync(basename(version), join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data')); // the atomic swap
  for (const name of Object.keys(files))
    if (!existsSync(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
  for (const old of previous) rmSync(join(dir, old), { recursive: true, force: true });
}

const secretFiles = (secret: V1Secret): Record<string, Buffer> =>
  Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));

type Mounts = Array<{ name: string; mountPath: string }>;
const remap = (path: string, mounts: Mounts): string => {
  const mount = mounts.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
  return mount ? join(work, 'pod', path) : path;
};

/** The relay config as the pod would read it, with the remapping described at the top. */
function remapConfig(text: string, mounts: Mounts, adminPort: number): string {
  const config = parse(text) as {
    listeners: Array<{ host?: string }>;
    relay?: { host?: string };
    admin?: { host?: string; port?: number };
    auth: { secretsFile?: string; usersFile?: string };
    tls?: { certFile: string; keyFile: string };
  };
  for (const l of config.listeners) l.host = '127.0.0.1';
  config.relay = { ...config.relay, host: '127.0.0.1' };
  config.admin = { ...config.admin, host: '127.0.0.1', port: adminPort };
  if (config.auth.secretsFile) config.auth.secretsFile = remap(config.auth.secretsFile, mounts);
  if (config.auth.usersFile) config.auth.usersFile = remap(config.auth.usersFile, mounts);
  if (config.tls)
    config.tls = {
      ...config.tls,
      certFile: remap(config.tls.certFile, mounts),
      keyFile: remap(config.tls.keyFile, mounts),
    };
  return stringify(config);
}

async function readObject<T>(path: string): Promise<T> {
  return waitFor(path, () => rest.find<T>(path), 60_000);
}

/** Projects every volume of the relay pod from the cluster's current ConfigMap/Secrets. */
async function projectPodVolumes(deployment: V1Deployment, adminPort: number): Promise<void> {
  const pod = deployment.spec!.template.spec!;
  const mounts = pod.containers[0]!.volumeMounts ?? [];
  for (const mount of mounts) {
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    const dir = join(work, 'pod', mount.mountPath);
    if (volume.configMap) {
      const cm = await readObject<V1ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/${volume.configMap.name}`);
      const data = Object.fromEntries(
        Object.entries(cm.data ?? {}).map(([k, v]) => [k, k.endsWith('.yaml') ? remapConfig(v, mounts, adminPort) : v]),
      );
      projectVolume(dir, data);
    } else if (volume.secret) {
      projectVolume(
        dir,
        secretFiles(await readObject<V1Secret>(`/api/v1/namespaces/${namespace}/secrets/${volume.secret.secretName}`)),
      );
    } else if (volume.emptyDir) {
      mkdirSync(dir, { recursive: true });
    }
  }
}

async function startRelayLikeKubelet(deployment: V1Deployment, adminPort: number): Promise<ChildProcess> {
  await projectPodVolumes(deployment, adminPort);
  const container = deployment.spec!.template.spec!.containers[0]!;
  const mounts = container.volumeMounts ?? [];
  // No command in the container: the image's ENTRYPOINT is `node dist/cli/turnrelay.js`; here the same CLI from source.
  expect(container.command).toBeUndefined();
  const args = (container.args ?? []).map((a) => (a.startsWith('/') ? remap(a, mounts) : a));
  const env = Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );
  const child = spawn(process.execPath, [TSX, join(REPO_ROOT, 'cli/turnrelay.ts'), ...args], {
    cwd: join(work, 'pod'),
    env: { ...process.env, ...env, TMPDIR: join(work, 'pod', 'tmp') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => (relayLog += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (relayLog += d));
  return child;
}

// ---- helpers ------------------------------------------------------------

const mintWithCli = (user: string): Promise<IceConfiguration> => mintCredentials(namespace, RELAY, user);

async function exchange(ice: IceConfiguration, transport: TurnTransport, marker: string): Promise<PairResult> {
  const { username, credential } = ice.iceServers[0]!;
  return runTurnPair(browser!, {
    iceServer: { urls: urlFor(ice, transport), username, credential },
    messages: 20,
    marker,
    timeoutMs: 20_000,
  });
}

// ---- the test -----------------------------------------------------------

beforeAll(async () => {
  helmBinary();
  const admin = testKubeConfig();
  rest = await adminRest(admin);
  await installTurnRelayCrd(rest);
  namespace = await createTestNamespace('e2e');
  work = mkdtempSync(join(tmpdir(), 'turnrelay-e2e-'));
  browser = await launchChromium();

  // The chart's ServiceAccount and RBAC, scoped to this namespace (watchNamespace) so the
  // operator cannot touch other test files' relays; a unique release keeps ClusterRole names apart.
  release = `e2e-${namespace.slice(-8)}`;
  const { objects } = renderChart({ release, namespace, set: { watchNamespace: namespace } });
  const rbacKinds = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
  const rbac = objects.filter((o) => rbacKinds.includes(o.kind!));
  clusterScopedRbac = rbac.filter((o) => o.kind!.startsWith('Cluster'));
  await applyYaml(rbac.map((o) => stringify(o)).join('---\n'), { fieldManager: FIELD_MANAGER });

  // Start the operator with the chart Deployment's arguments, authenticated as its ServiceAccount.
  const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
  const args = deployment.spec!.template.spec!.containers[0]!.args!;
  const flag = (name: string) => args[args.indexOf(name) + 1];
  expect(args).toContain('--leader-elect');
  expect(flag('--namespace')).toBe(namespace);
  const serviceAccount: KubeConfig = await kubeConfigForServiceAccount(
    namespace,
    deployment.spec!.template.spec!.serviceAccountName!,
  );
  operator = await startTestOperator(serviceAccount, flag('--namespace')!, {
    image: flag('--relay-image')!,
    leaderElection: { namespace, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
    now: () => Date.now() + clockOffsetMs,
  });
}, 15 * 60_000);

afterAll(async () => {
  await browser?.close();
  if (relayProcess && relayProcess.exitCode === null) {
    relayProcess.kill('SIGTERM');
    await Promise.race([new Promise((r) => relayProcess!.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- it may have exited during the race
    if (relayProcess.exitCode === null) relayProcess.kill('SIGKILL');
  }
  await operator?.stop();
  for (const o of clusterScopedRbac)
    await kubectl(['delete', o.kind!.toLowerCase(), o.metadata!.name!, '--ignore-not-found', '--wait=false']).catch(
      () => undefined,
    );
  if (namespace) await deleteTestNamespace(namespace);
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test(
  'a TurnRelay reconciled under the chart RBAC relays Chromium data over UDP, TCP and TLS; rotation keeps old and new credentials working; deletion collects the children',
  async () => {
    // Listener ports free on this machine and outside the relay port range.
    const relayPorts = randomPortBlock(200);
    const outside = async () => {
      for (;;) {
        const port = await freeUdpTcpPort();
        if (port < relayPorts.min || port > relayPorts.max) return port;
      }
    };
    const turnPort = await outside();
    const tlsPort = await outside();
    const adminPort = await outside();

    // The TLS key pair, as a pre-created kubernetes.io/tls Secret (cert-manager does not run here).
    const { certPem, keyPem } = await generateSelfSignedCert({ dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    await applyYaml(
      stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'e2e-tls', namespace },
        stringData: { 'tls.crt': certPem, 'tls.key': keyPem },
      }),
      { fieldManager: FIELD_MANAGER },
    );

    await applyYaml(
      stringify({
        apiVersion: 'turnrelay.dev/v1alpha1',
        kind: 'TurnRelay',
        metadata: { name: RELAY, namespace },
        spec: {
          realm: 'turn.e2e.test',
          listeners: [
            { protocol: 'UDP', port: turnPort },
            { protocol: 'TCP', port: turnPort },
            { protocol: 'TLS', port: tlsPort },
          ],
          tls: { secretName: 'e2e-tls' },
          auth: { rotationInterval: '10m', credentialTTL: '5m' },
          // No cloud load balancer here: the address clients use is given explicitly.
          network: { externalAddresses: ['127.0.0.1'], relayPortRange: relayPorts },
          // The browsers' relay candidates are loopback addresses: opt in to them.
          peers: { allowCIDRs: ['127.0.0.0/8'] },
          drain: { gracePeriod: '0s' },
        },
      }),
      { fieldManager: FIELD_MANAGER },
    );

    // Reconciled: children exist, the pods are "run" (no kubelet: marked ready), status is Ready with the ICE servers.
    const deployment = await readObject<V1Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments/${RELAY}`);
    await markRelayPodsReady(rest, namespace, RELAY, 1);
    const ready = await waitFor(
      'TurnRelay Ready',
      async () => {
        const relay = await getRelay(rest, namespace, RELAY);
        return condition(relay, 'Ready')?.status === 'True' ? relay : undefined;
      },
      90_000,
    );
    expect(ready.status!['iceServers']).toEqual([
      `turn:127.0.0.1:${turnPort}?transport=udp`,
      `turn:127.0.0.1:${turnPort}?transport=tcp`,
      `turns:127.0.0.1:${tlsPort}?transport=tcp`,
    ]);
    const authSecretName = ready.status!['authSecretName'] as string;
    const [firstSecret] = (await authSecretLines(rest, namespace, authSecretName))!;

    // Start the relay as the kubelet would, and wait until it answers.
    relayProcess = await startRelayLikeKubelet(deployment, adminPort);
    await waitForStunBinding('127.0.0.1', turnPort, 60_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nrelay output:\n${relayLog}`, { cause: err });
    });
    const relayPid = relayProcess.pid;

    // Credentials from the cluster through the CLI, then Chromium over every transport.
    const before = await mintWithCli('alice');
    for (const transport of TRANSPORTS)
      expectRelayed(await exchange(before, transport, `before-${transport.name}`), transport.name);

    // Rotation: move the operator's clock past rotationInterval; the resync reconciles and stages a secret
    // behind the signing one.
    clockOffsetMs += 10 * 60_000 + 1_000;
    const staged = await waitFor(
      'auth Secret rotation',
      async () => {
        const lines = await authSecretLines(rest, namespace, authSecretName);
        return lines && lines.length === 2 ? lines : undefined;
      },
      60_000,
    );
    expect(staged[0]).toBe(firstSecret);
    const newSecret = staged[1]!;
    expect(newSecret).not.toBe(firstSecret);

    // The kubelet swaps the mounted Secret; the relay reloads it live and learns the staged secret.
    await projectPodVolumes(deployment, adminPort);
    // After the propagation delay the staged secret becomes the signing one.
    clockOffsetMs += 2 * 60_000 + 1_000;
    await waitFor(
      'promotion of the staged secret',
      async () => (await authSecretLines(rest, namespace, authSecretName))?.join() === [newSecret, firstSecret].join(),
      60_000,
    );
    await projectPodVolumes(deployment, adminPort);
    const after = await mintWithCli('bob');
    expect(after.iceServers[0]!.username).not.toBe(before.iceServers[0]!.username);
    expect(after.iceServers[0]!.credential).toBe(restPassword(newSecret, after.iceServers[0]!.username));
    // New credentials work once the relay picked up the file (a few seconds at most).
    await waitFor(
      'the relay to accept credentials from the rotated secret',
      async () => {
        const result = await exchange(after, TRANSPORTS[0], 'after-probe').catch(() => undefined);
        return result?.echoes === 20 ? result : undefined;
      },
      60_000,
      1_000,
    );
    for (const transport of TRANSPORTS)
      expectRelayed(await exchange(after, transport, `after-${transport.name}`), transport.name);
    // Credentials minted before the rotation still work during the overlap.
    for (const transport of TRANSPORTS)
      expectRelayed(await exchange(before, transport, `old-${transport.name}`), transport.name);
    expect(relayProcess.pid).toBe(relayPid);
    expect(relayProcess.exitCode).toBeNull();

    // Deleting the TurnRelay garbage-collects every child (the GC may need a discovery cycle for a new CRD).
    await kubectl(['delete', 'turnrelay', RELAY, '-n', namespace, '--wait=false']);
    await waitFor(
      'children garbage-collected',
      async () => {
        const children = await liveChildren(rest, namespace, RELAY);
        const secret = await rest.find(`/api/v1/namespaces/${namespace}/secrets/${authSecretName}`);
        return children.length === 0 && secret === undefined ? true : undefined;
      },
      120_000,
      1_000,
    );
    // The user's own TLS Secret is not the operator's to delete.
    expect(await rest.find(`/api/v1/namespaces/${namespace}/secrets/e2e-tls`)).toBeDefined();
  },
  10 * 60_000,
);
