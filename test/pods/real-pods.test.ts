// The product as users run it, on real pods: the operator image installed
// with the Helm chart (two replicas, leader election), then the same with
// deploy/install.yaml instead; each time a TurnRelay from the
// samples reconciled into relay pods that kubelet starts from the relay image
// (non-root, read-only root file system, probes gating readiness), and
// turnutils_uclient relaying UDP and TCP through the relay's Service, routed
// by kube-proxy, to an echo peer, and Chromium (in the node's network
// namespace) exchanging data-channel messages between two relay-only peer
// connections over UDP, TCP and TLS through the same Service. Credentials
// come from the CLI the way an application server would mint them. Then, on
// the same operator: the p2p example in HostNetwork mode, and ConfigMap/Secret
// updates (peer policy, TLS certificate) reaching a running relay pod through
// kubelet's volume updates.
//
// Adapted to the test cluster: no cloud load balancer, so the Service is a
// ClusterIP (its cluster IP is what the relay advertises), and the echo peer
// runs on the node's private address, which the TurnRelay allows explicitly.
import { execFile } from 'node:child_process';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import type { Browser } from 'playwright-core';
import { launchChromium, openTurnCall, runTurnPair } from '../interop/harness/chromium.js';
import { ChildSet } from '../interop/harness/children.js';
import { inNetns } from '../interop/harness/uclient.js';
import { applyYaml, kubectl } from '../k8s/delivery-kubectl.js';
import { NODE_NAME } from '../k8s/harness/node.js';
import { NODE_NETWORK } from '../k8s/harness/node-network.js';
import { expectRelayed, mintWithCli, TRANSPORTS, urlFor, type IceConfiguration } from '../k8s/ice-credentials.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../k8s/harness/cluster.js';
import { adminRest, readSample, waitFor } from '../k8s/operator-fixtures.js';
import {
  FIELD_MANAGER,
  OPERATOR_NAMESPACE,
  applyInstallManifest,
  helmInstallOperator,
  helmUninstallOperator,
} from './harness/operator-install.js';
import { applyExampleOnTestNode } from './harness/examples.js';
import { nodeIp, nodeNetns } from './harness/pods-env.js';
import { relayPodMetrics, relayStartedLog, relayToEchoPeer, sample, startEchoPeer } from './harness/relay-clients.js';
import { tlsSecretJson, waitForRelayReady } from './harness/relay-pods.js';

let kc: KubeConfig;
let rest: KubeRest;
let browser: Browser | undefined;
const children = new ChildSet();
const namespaces: string[] = [];

beforeAll(async () => {
  kc = testKubeConfig();
  rest = await adminRest(kc);
});

afterAll(async () => {
  await browser?.close();
  await children.stopAll();
  for (const namespace of namespaces) await deleteTestNamespace(namespace);
});

/**
 * Chromium inside the node's namespace (where the Service is routed): two
 * relay-only RTCPeerConnections exchange data-channel messages through the
 * relay pod, over each transport, with the ICE servers the CLI minted.
 */
async function expectChromiumRelays(
  ice: IceConfiguration,
  transports: ReadonlyArray<'udp' | 'tcp' | 'tls'>,
): Promise<void> {
  browser ??= await launchChromium({ netnsPath: nodeNetns() });
  const { username, credential } = ice.iceServers[0]!;
  for (const name of transports) {
    const transport = TRANSPORTS.find((t) => t.name === name)!;
    const result = await runTurnPair(browser, {
      iceServer: { urls: urlFor(ice, transport), username, credential },
      messages: 20,
      marker: `pods-${name}`,
      timeoutMs: 30_000,
    });
    expectRelayed(result, name);
  }
}

/** The operator's pods are the image from the chart/manifest, both Ready, exactly one holding the lease. */
async function expectTwoOperatorsOneLeader(): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const ready = await waitFor(
    'two Ready operator pods',
    async () => {
      const pods = await core.listNamespacedPod({
        namespace: OPERATOR_NAMESPACE,
        labelSelector: 'app.kubernetes.io/component=operator',
      });
      const live = pods.items.filter((pod) => !pod.metadata?.deletionTimestamp);
      const isReady = live.filter((pod) =>
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return isReady.length === 2 && live.length === 2 ? isReady : undefined;
    },
    180_000,
    1000,
  );
  for (const pod of ready) {
    expect(pod.spec!.containers[0]!.image).toMatch(/^ghcr\.io\/turnrelay\/turnrelay-operator:/);
    expect(pod.spec!.securityContext?.runAsNonRoot ?? pod.spec!.containers[0]!.securityContext?.runAsNonRoot).toBe(
      true,
    );
  }
  const names = ready.map((pod) => pod.metadata!.name!);
  const leases = kc.makeApiClient(CoordinationV1Api);
  const holder = await waitFor(
    'a lease held by one of the operator pods',
    async () => {
      const list = await leases.listNamespacedLease({ namespace: OPERATOR_NAMESPACE });
      return list.items
        .map((lease) => lease.spec?.holderIdentity ?? '')
        .find((id) => names.some((name) => id.startsWith(name)));
    },
    90_000,
    1000,
  );
  expect(names.filter((name) => holder.startsWith(name))).toHaveLength(1);
}

/** Applies the udp-only sample (adapted) in a new namespace, waits for Ready, relays UDP and TCP through its Service. */
async function expectSampleRelaysThroughService(prefix: string): Promise<void> {
  const namespace = await createTestNamespace(prefix);
  namespaces.push(namespace);
  const sample = await readSample('udp-only');
  const relay = {
    ...sample,
    metadata: { name: 'udp-only', namespace },
    spec: {
      ...sample.spec,
      listeners: [
        { name: 'udp', protocol: 'UDP', port: 3478 },
        { name: 'tcp', protocol: 'TCP', port: 3478 },
      ],
      network: { mode: 'LoadBalancer', service: { type: 'ClusterIP' } },
      peers: { allowCIDRs: [`${nodeIp()}/32`] },
      drain: { gracePeriod: '5s' },
    },
  };
  await applyYaml(JSON.stringify(relay), { fieldManager: FIELD_MANAGER });
  await waitForRelayReady(rest, namespace, 'udp-only');

  const core = kc.makeApiClient(CoreV1Api);
  const pods = (await core.listNamespacedPod({ namespace })).items;
  expect(pods.length).toBeGreaterThan(0);
  for (const pod of pods) {
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.every((status) => status.ready && status.restartCount === 0)).toBe(true);
    expect(pod.spec!.containers[0]!.image).toMatch(/^ghcr\.io\/turnrelay\/turnrelay:/);
  }
  const service = (await core.listNamespacedService({ namespace })).items.find((svc) =>
    svc.spec?.ports?.some((port) => port.port === 3478),
  );
  const clusterIp = service?.spec?.clusterIP ?? '';
  expect(clusterIp).toMatch(/^10\.0\.0\.\d+$/);

  const { port: peerPort, peer } = await startEchoPeer(children);
  expect(peer.process.exitCode).toBeNull();

  const ice = await mintWithCli(namespace, 'udp-only', 'pods-test');
  const { username, credential } = ice.iceServers[0]!;
  expect(ice.iceServers[0]!.urls.join(' ')).toContain(clusterIp);

  for (const transport of ['udp', 'tcp'] as const) {
    const report = await relayToEchoPeer(
      children,
      { host: clusterIp, port: 3478 },
      transport,
      { username, credential },
      peerPort,
      20,
    );
    expect(report.sent).toBe(40);
    expect(report.received).toBe(40);
    expect(report.lost).toBe(0);
  }
  await expectChromiumRelays(ice, ['udp', 'tcp']);
  await deleteTestNamespace(namespace);
}

describe('installed with the Helm chart', () => {
  beforeAll(helmInstallOperator, 300_000);

  test(
    'two operator pods from the operator image are Ready; one of them holds the leader lease',
    expectTwoOperatorsOneLeader,
    300_000,
  );

  test('a TurnRelay from the samples becomes Ready on real pods and relays turnutils_uclient UDP and TCP through its Service', async () => {
    await expectSampleRelaysThroughService('pods-helm');
  }, 400_000);
});

describe('installed with deploy/install.yaml', () => {
  beforeAll(async () => {
    await helmUninstallOperator();
    await applyInstallManifest();
  }, 300_000);

  test('two operator pods are Ready; one of them holds the leader lease', expectTwoOperatorsOneLeader, 300_000);

  test('the same TurnRelay becomes Ready and relays through its Service', async () => {
    await expectSampleRelaysThroughService('pods-manifest');
  }, 400_000);
});

describe('HostNetwork mode', () => {
  test('the p2p example (one labelled node) becomes Ready on the node network and relays UDP and TCP on the node address', async () => {
    const namespace = await createTestNamespace('pods-hostnet');
    namespaces.push(namespace);
    await kubectl(['label', 'node', NODE_NAME, 'turnrelay.dev/edge=true', '--overwrite']);
    // A limit of 2 CPUs (all this node has; a small request, so it schedules
    // next to the operator): the data plane runs one thread per CPU.
    await applyExampleOnTestNode('p2p-hostnetwork.yaml', 'p2p', namespace, FIELD_MANAGER, {
      resources: { requests: { cpu: '100m' }, limits: { cpu: '2', memory: '512Mi' } },
    });
    await waitForRelayReady(rest, namespace, 'p2p');
    const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items;
    expect(pods).toHaveLength(1);
    expect(pods[0]!.spec!.hostNetwork).toBe(true);
    expect(pods[0]!.status!.podIP).toBe(nodeIp());
    expect(await relayStartedLog(namespace, pods[0]!.metadata!.name!)).toMatchObject({
      dataPlane: 'native',
      threads: 2,
    });

    const ice = await mintWithCli(namespace, 'p2p', 'hostnet');
    expect(ice.iceServers[0]!.urls.join(' ')).toContain(nodeIp());
    const { username, credential } = ice.iceServers[0]!;
    const { port: peerPort } = await startEchoPeer(children);
    for (const transport of ['udp', 'tcp'] as const) {
      const report = await relayToEchoPeer(
        children,
        { host: nodeIp(), port: 3478 },
        transport,
        { username, credential },
        peerPort,
        20,
      );
      expect(report.received).toBe(40);
      expect(report.lost).toBe(0);
    }
    // Chromium: both peers' relayed candidates are the node address.
    await expectChromiumRelays(ice, ['udp', 'tcp']);
    await deleteTestNamespace(namespace);
  }, 400_000);
});

describe('TURN over TLS on 443 and TCP on 80, relay still non-root', () => {
  // Two relays side by side, one per network mode, each with TLS on 443 and TCP
  // on 80. The node's containerd does not lower the unprivileged-port sysctl by
  // itself (test/k8s/harness/node.ts), so the pods bind these ports only with
  // what the operator renders: the sysctl on the pod network, NET_BIND_SERVICE
  // and the image's launcher on the host network.
  test('on the pod network through the ClusterIP Service, and on the host network at the node address', async () => {
    const namespace = await createTestNamespace('pods-lowports');
    namespaces.push(namespace);
    const pair = await generateSelfSignedCert({ commonName: 'low', dnsNames: ['turn.pods.test'], ips: [] });
    await applyYaml(tlsSecretJson(namespace, 'low-tls', pair), { fieldManager: FIELD_MANAGER });
    const lowRelay = (name: string, network: Record<string, unknown>) =>
      JSON.stringify({
        apiVersion: 'turnrelay.dev/v1alpha1',
        kind: 'TurnRelay',
        metadata: { name, namespace },
        spec: {
          realm: 'turn.pods.test',
          listeners: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'TLS', port: 443 },
          ],
          tls: { secretName: 'low-tls' },
          network,
          replicas: 1,
          peers: { allowCIDRs: [`${nodeIp()}/32`] },
          drain: { gracePeriod: '5s' },
        },
      });
    await applyYaml(lowRelay('pod-net', { mode: 'LoadBalancer', service: { type: 'ClusterIP' } }), {
      fieldManager: FIELD_MANAGER,
    });
    await applyYaml(lowRelay('host-net', { mode: 'HostNetwork' }), { fieldManager: FIELD_MANAGER });
    for (const name of ['pod-net', 'host-net']) await waitForRelayReady(rest, namespace, name);

    const core = kc.makeApiClient(CoreV1Api);
    const podOf = async (name: string) => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: `turnrelay.dev/relay=${name}` })).items;
      expect(pods).toHaveLength(1);
      const pod = pods[0]!;
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.containerStatuses?.map((c) => [c.ready, c.restartCount])).toEqual([[true, 0]]);
      expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
      expect(pod.spec!.containers[0]!.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      return pod;
    };
    const podNet = await podOf('pod-net');
    expect(podNet.spec!.hostNetwork).toBeFalsy();
    expect(podNet.spec!.securityContext!.sysctls).toEqual([
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '80' },
    ]);
    expect(podNet.spec!.containers[0]!.securityContext!.capabilities).toEqual({ drop: ['ALL'] });
    const hostNet = await podOf('host-net');
    expect(hostNet.spec!.hostNetwork).toBe(true);
    expect(hostNet.spec!.securityContext!.sysctls).toBeUndefined();
    expect(hostNet.spec!.containers[0]!.securityContext!.capabilities).toEqual({
      drop: ['ALL'],
      add: ['NET_BIND_SERVICE'],
    });

    const service = (await core.listNamespacedService({ namespace })).items.find(
      (svc) => svc.metadata!.name === 'pod-net',
    )!;
    const clusterIp = service.spec!.clusterIP!;
    const { port: peerPort } = await startEchoPeer(children);
    for (const [name, host] of [
      ['pod-net', clusterIp],
      ['host-net', nodeIp()],
    ] as const) {
      const ice = await mintWithCli(namespace, name, `low-${name}`);
      const urls = ice.iceServers[0]!.urls.join(' ');
      expect(urls).toContain(`turn:${host}:80?transport=tcp`);
      expect(urls).toContain(`turns:${host}:443?transport=tcp`);
      const { username, credential } = ice.iceServers[0]!;
      for (const [transport, port] of [
        ['tcp', 80],
        ['tls', 443],
      ] as const) {
        const report = await relayToEchoPeer(
          children,
          { host, port },
          transport,
          { username, credential },
          peerPort,
          10,
        );
        expect({ name, transport, received: report.received, lost: report.lost }).toEqual({
          name,
          transport,
          received: 20,
          lost: 0,
        });
      }
      if (name === 'pod-net') await expectChromiumRelays(ice, ['tcp', 'tls']);
    }
    await deleteTestNamespace(namespace);
  }, 400_000);
});

describe('updates reach running pods through kubelet volume updates', () => {
  test('an allowCIDRs and an allowServices change (ConfigMap), a new TLS certificate and the operator rotating the auth Secret take effect without a restart', async () => {
    const namespace = await createTestNamespace('pods-updates');
    namespaces.push(namespace);
    const first = await generateSelfSignedCert({ commonName: 'first', dnsNames: ['turn.pods.test'], ips: [] });
    const tlsSecret = (pair: { certPem: string; keyPem: string }) => tlsSecretJson(namespace, 'relay-tls', pair);
    await applyYaml(tlsSecret(first), { fieldManager: FIELD_MANAGER });
    type Peers = { allowCIDRs: string[]; allowServices?: Array<{ name: string }> };
    const relay = (peers: Peers) =>
      JSON.stringify({
        apiVersion: 'turnrelay.dev/v1alpha1',
        kind: 'TurnRelay',
        metadata: { name: 'updates', namespace },
        spec: {
          realm: 'turn.pods.test',
          listeners: [
            { protocol: 'UDP', port: 3478 },
            { protocol: 'TLS', port: 5349 },
          ],
          tls: { secretName: 'relay-tls' },
          network: { mode: 'LoadBalancer', service: { type: 'ClusterIP' } },
          peers,
          drain: { gracePeriod: '5s' },
          // The shortest rotation the API allows: a new shared secret staged after
          // 1 min, signing 30 s later, the old one dropped 1 min after that.
          auth: { rotationInterval: '1m', credentialTTL: '1m' },
          // One CPU: the data plane runs one thread.
          resources: { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '512Mi' } },
        },
      });
    await applyYaml(relay({ allowCIDRs: [] }), { fieldManager: FIELD_MANAGER });
    await waitForRelayReady(rest, namespace, 'updates');
    const core = kc.makeApiClient(CoreV1Api);
    const initialPods = (await core.listNamespacedPod({ namespace })).items;
    const podsBefore = initialPods.map((pod) => pod.metadata!.uid);
    expect(await relayStartedLog(namespace, initialPods[0]!.metadata!.name!)).toMatchObject({
      dataPlane: 'native',
      threads: 1,
    });
    const service = (await core.listNamespacedService({ namespace })).items.find((svc) =>
      svc.spec?.ports?.some((port) => port.port === 3478),
    )!;
    const clusterIp = service.spec!.clusterIP!;
    const authSecrets = async () => {
      const secret = await core.readNamespacedSecret({ name: 'updates-turn-auth', namespace });
      return Buffer.from(secret.data!['secrets']!, 'base64').toString('utf8').split('\n').filter(Boolean);
    };
    const [firstSigning] = await authSecrets();

    // A call that lives through the rotation, on credentials signed with the first secret.
    const oldIce = await mintWithCli(namespace, 'updates', 'long-call');
    const oldProbe = (await mintWithCli(namespace, 'updates', 'old-probe')).iceServers[0]!;
    browser ??= await launchChromium({ netnsPath: nodeNetns() });
    const call = await openTurnCall(browser, {
      iceServer: {
        urls: urlFor(oldIce, TRANSPORTS[0]),
        username: oldIce.iceServers[0]!.username,
        credential: oldIce.iceServers[0]!.credential,
      },
      marker: 'rotation',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const callKeepsGoing = async () => {
      const before = await call.progress();
      await waitFor(
        'the call exchanging more messages',
        async () => (await call.progress()).echoed > before.echoed + 4,
        20_000,
        250,
      );
      expect((await call.progress()).error).toBeUndefined();
    };

    // Chromium over TLS through the Service (self-signed certificate, ignored by
    // the launch flags); both ends use this relay, so no allowCIDRs entry is needed.
    await expectChromiumRelays(await mintWithCli(namespace, 'updates', 'browser'), ['tls']);

    const { port: peerPort } = await startEchoPeer(children);
    // A new user per attempt: a refused attempt leaves its allocation behind, counted against the user's quota.
    let attempt = 0;
    const relayTo = (credentials: { username: string; credential: string }, host = nodeIp(), port = peerPort) =>
      relayToEchoPeer(children, { host: clusterIp, port: 3478 }, 'udp', credentials, port, 5, { peerHost: host }).then(
        (report) => report.received,
        () => 0,
      );
    const toPeer = async (host?: string, port?: number) => {
      const ice = await mintWithCli(namespace, 'updates', `updates-${attempt++}`);
      return relayTo(ice.iceServers[0]!, host, port);
    };

    // The node's private address is refused by the default peer policy...
    expect(await toPeer()).toBe(0);
    // ...until the TurnRelay allows it: the operator rewrites the ConfigMap, kubelet swaps the mounted file.
    await applyYaml(relay({ allowCIDRs: [`${nodeIp()}/32`] }), { fieldManager: FIELD_MANAGER });
    await waitFor('relaying to the newly allowed peer', async () => (await toPeer()) === 10, 180_000, 1000);

    // An in-cluster media server (a Service with an EndpointSlice; here an echo
    // peer on the pod bridge's address) is refused until spec.peers.allowServices
    // names it: the operator resolves the Service's endpoints into the ConfigMap.
    const sfuHost = NODE_NETWORK.podGateway;
    const { port: sfuPort } = await startEchoPeer(children, sfuHost);
    await applyYaml(sfuServiceJson(namespace, 'sfu', sfuHost, sfuPort), { fieldManager: FIELD_MANAGER });
    expect(await toPeer(sfuHost, sfuPort)).toBe(0);
    await applyYaml(relay({ allowCIDRs: [`${nodeIp()}/32`], allowServices: [{ name: 'sfu' }] }), {
      fieldManager: FIELD_MANAGER,
    });
    await waitFor(
      'relaying to the allowed Service',
      async () => (await toPeer(sfuHost, sfuPort)) === 10,
      180_000,
      1000,
    );

    // A new certificate in the Secret is served on new TLS connections.
    const servedCommonName = () => served(nodeNetns(), clusterIp, 5349);
    expect(await servedCommonName()).toBe('first');
    await applyYaml(
      tlsSecret(await generateSelfSignedCert({ commonName: 'second', dnsNames: ['turn.pods.test'], ips: [] })),
      { fieldManager: FIELD_MANAGER },
    );
    await waitFor(
      'the relay serving the new certificate',
      async () => (await servedCommonName()) === 'second',
      180_000,
      2000,
    );

    // The operator's rotation: a new signing secret, which the running relay
    // already knows (it was staged first), so credentials minted with it work.
    await callKeepsGoing();
    const promoted = await waitFor(
      'a new signing secret in the auth Secret',
      async () => {
        const [signing] = await authSecrets();
        return signing !== firstSigning ? signing : undefined;
      },
      180_000,
      1000,
    );
    expect(promoted).toBeDefined();
    expect(await toPeer()).toBe(10);
    await callKeepsGoing();
    // Once the first secret is dropped (credentialTTL after it stopped signing),
    // its credentials allocate no more, while the call allocated with them goes on.
    await waitFor(
      'the first secret dropped',
      async () => !(await authSecrets()).includes(firstSigning!),
      180_000,
      1000,
    );
    const badIntegrity = async () =>
      sample(
        await relayPodMetrics(namespace, initialPods[0]!.metadata!.name!),
        'turnrelay_auth_total{result="bad_integrity"}',
      );
    const refusedBefore = await badIntegrity();
    await waitFor('old credentials refused', async () => (await relayTo(oldProbe)) === 0, 60_000, 1000);
    expect(await badIntegrity()).toBeGreaterThan(refusedBefore);
    await callKeepsGoing();
    await call.close();

    const podsAfter = (await core.listNamespacedPod({ namespace })).items;
    expect(podsAfter.map((pod) => pod.metadata!.uid)).toEqual(podsBefore);
    for (const pod of podsAfter)
      expect(pod.status!.containerStatuses!.every((status) => status.restartCount === 0)).toBe(true);
    await deleteTestNamespace(namespace);
  }, 600_000);
});

/** A Service without a selector and its EndpointSlice: one ready UDP endpoint at host:port. */
function sfuServiceJson(namespace: string, name: string, host: string, port: number): string {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port, protocol: 'UDP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [host], conditions: { ready: true } }],
      ports: [{ port, protocol: 'UDP' }],
    },
  ]
    .map((doc) => JSON.stringify(doc))
    .join('\n---\n');
}

/** The subject CN of the certificate a TLS server presents, read with openssl inside the namespace. */
async function served(netnsPath: string, host: string, port: number): Promise<string> {
  const [command, args] = inNetns(netnsPath, 'openssl', [
    's_client',
    '-connect',
    `${host}:${port}`,
    '-servername',
    'turn.pods.test',
  ]);
  const child = execFile(command, args, { timeout: 10_000 });
  child.stdin!.end('');
  let out = '';
  child.stdout!.on('data', (chunk: string) => (out += chunk));
  await new Promise((resolve) => child.once('close', resolve));
  return /subject=.*CN\s*=\s*([^,\n/]+)/.exec(out)?.[1]?.trim() ?? '';
}
