// A scale-down under kube-proxy does not cut a live call. A relay pod carries
// three Chromium calls (relay-only peer connections through the ClusterIP
// Service, over UDP, TCP and TLS); the TurnRelay is scaled up to a second pod
// and back down, and the scale-down takes the busy pod. While it terminates,
// every call keeps exchanging data, new allocations through the
// same Service land on the other pod, and when the calls hang up the draining
// pod exits on its own, long before its grace period.
//
// What this guards: kube-proxy deletes the UDP conntrack entries of a Service
// whose endpoint stops *serving* (EndpointSlice condition serving=false, i.e.
// the pod's readiness fails), and a UDP call's packets then go to another pod
// that has no allocation for them. A terminating endpoint never counts as
// ready for new connections, so the relay keeps passing its readiness probe
// while it drains (docs/operations.md, "Scaling and draining").
//
// Adapted to the test cluster: a ClusterIP Service (no cloud load balancer),
// the echo peer on the node's private address, allowed explicitly, and a
// self-signed TLS certificate (ignored by Chromium's launch flags).
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { launchChromium, openTurnCall, type TurnCall } from '../interop/harness/chromium.js';
import { ChildSet } from '../interop/harness/children.js';
import { applyYaml, kubectl } from '../k8s/delivery-kubectl.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../k8s/harness/cluster.js';
import { mintWithCli, TRANSPORTS, urlFor } from '../k8s/ice-credentials.js';
import { adminRest, waitFor } from '../k8s/operator-fixtures.js';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { FIELD_MANAGER, useInstalledOperator } from './harness/operator-install.js';
import { nodeIp, nodeNetns } from './harness/pods-env.js';
import { expectFlowing, isReady, livePods, tlsSecretJson, waitForRelayReady } from './harness/relay-pods.js';
import { relayPodMetrics, relayToEchoPeer, sample, startEchoPeer } from './harness/relay-clients.js';

const NAME = 'drain';
const GRACE_SECONDS = 90;
/** How long the calls must keep going on the terminating pod: past its readiness probes' failure window (3 × 5 s). */
const HOLD_MS = 25_000;
const SAMPLE_MS = 2_500;
const CALL_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

let kc: KubeConfig;
let rest: KubeRest;
let core: CoreV1Api;
let operator: { release(): Promise<void> } | undefined;
let browser: Browser | undefined;
let namespace: string | undefined;
const calls: TurnCall[] = [];
const children = new ChildSet();

beforeAll(async () => {
  kc = testKubeConfig();
  rest = await adminRest(kc);
  core = kc.makeApiClient(CoreV1Api);
  operator = await useInstalledOperator(kc);
}, 300_000);

afterAll(async () => {
  for (const call of calls) await call.close().catch(() => undefined);
  await browser?.close();
  await children.stopAll();
  if (namespace) await deleteTestNamespace(namespace);
  await operator?.release();
}, 300_000);

async function scaleTo(ns: string, replicas: number): Promise<V1Pod[]> {
  await kubectl(['scale', `turnrelay/${NAME}`, '-n', ns, `--replicas=${replicas}`]);
  return waitFor(
    `${replicas} Ready relay pod(s)`,
    async () => {
      const pods = await livePods(core, ns);
      return pods.length === replicas && pods.every(isReady) ? pods : undefined;
    },
    180_000,
    1000,
  );
}

/** Follows one pod's watch events and remembers the relay container's last terminated state. */
function watchTermination(ns: string, pod: string): { exitCode(): number | undefined; stop(): void } {
  let exitCode: number | undefined;
  let controller: AbortController | undefined;
  void new Watch(kc)
    .watch(
      `/api/v1/namespaces/${ns}/pods`,
      { fieldSelector: `metadata.name=${pod}` },
      (_type, obj: V1Pod) => {
        const terminated = obj.status?.containerStatuses?.find((s) => s.name === 'relay')?.state?.terminated;
        if (terminated) exitCode = terminated.exitCode;
      },
      () => undefined,
    )
    .then((c) => (controller = c));
  return { exitCode: () => exitCode, stop: () => controller?.abort() };
}

test('a scale-down that takes the pod carrying a UDP, a TCP and a TLS call keeps every call going; new allocations land on the other pod; the pod exits when the calls end', async () => {
  const ns = await createTestNamespace('pods-drain');
  namespace = ns;
  const pair = await generateSelfSignedCert({ commonName: 'drain', dnsNames: ['turn.pods.test'], ips: [] });
  await applyYaml(tlsSecretJson(ns, 'relay-tls', pair), { fieldManager: FIELD_MANAGER });
  await applyYaml(
    JSON.stringify({
      apiVersion: 'turnrelay.dev/v1alpha1',
      kind: 'TurnRelay',
      metadata: { name: NAME, namespace: ns },
      spec: {
        realm: 'turn.pods.test',
        listeners: [
          { name: 'udp', protocol: 'UDP', port: 3478 },
          { name: 'tcp', protocol: 'TCP', port: 3478 },
          { name: 'tls', protocol: 'TLS', port: 5349 },
        ],
        tls: { secretName: 'relay-tls' },
        network: { mode: 'LoadBalancer', service: { type: 'ClusterIP' } },
        peers: { allowCIDRs: [`${nodeIp()}/32`] },
        replicas: 1,
        drain: { gracePeriod: `${GRACE_SECONDS}s` },
      },
    }),
    { fieldManager: FIELD_MANAGER },
  );
  await waitForRelayReady(rest, ns, NAME);
  const [busy] = await scaleTo(ns, 1);
  const busyName = busy!.metadata!.name!;

  // Three calls, while this is the only pod behind the Service: it carries them all.
  const ice = await mintWithCli(ns, NAME, 'drain-calls');
  const { username, credential } = ice.iceServers[0]!;
  browser = await launchChromium({ netnsPath: nodeNetns() });
  for (const name of CALL_TRANSPORTS) {
    const transport = TRANSPORTS.find((t) => t.name === name)!;
    const call = await openTurnCall(browser, {
      iceServer: { urls: urlFor(ice, transport), username, credential },
      marker: `drain-${name}`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    calls.push(call);
    for (const end of [call.connected.a, call.connected.b]) {
      expect(end.local.candidateType).toBe('relay');
      expect(end.local.relayProtocol).toBe(name);
    }
  }
  // Its metrics: at least the two allocations of each call.
  expect(sample(await relayPodMetrics(ns, busyName), 'turnrelay_allocations{family="ipv4"}')).toBeGreaterThanOrEqual(
    2 * calls.length,
  );

  // A second pod, then the scale-down. The ReplicaSet would remove the newer,
  // idle pod; a pod-deletion-cost makes it take the busy one, as a scale-down
  // that must move calls does (a node drain or rollout does it regardless).
  const idleName = (await scaleTo(ns, 2)).map((pod) => pod.metadata!.name!).find((name) => name !== busyName)!;
  await kubectl(['annotate', 'pod', '-n', ns, busyName, 'controller.kubernetes.io/pod-deletion-cost=-1']);
  const before = await relayPodMetrics(ns, busyName);
  const logs = kubectl(['logs', '-f', '-n', ns, busyName, '-c', 'relay']);
  logs.catch(() => undefined); // awaited below; a failure before that must not go unhandled
  const termination = watchTermination(ns, busyName);
  try {
    await kubectl(['scale', `turnrelay/${NAME}`, '-n', ns, '--replicas=1']);
    await waitFor(
      'the busy pod terminating',
      async () => (await core.readNamespacedPod({ namespace: ns, name: busyName })).metadata?.deletionTimestamp,
      60_000,
      250,
    );
    const terminatingSince = Date.now();
    expect((await livePods(core, ns)).map((pod) => pod.metadata!.name)).toEqual([idleName]);

    // New allocations meanwhile: turnutils_uclient over UDP and TCP through the Service.
    const service = (await core.listNamespacedService({ namespace: ns })).items[0]!;
    const clusterIp = service.spec!.clusterIP!;
    const { port: peerPort } = await startEchoPeer(children);
    const newAllocations = (async () => {
      const fresh = (await mintWithCli(ns, NAME, 'drain-new')).iceServers[0]!;
      const reports = [];
      for (const transport of ['udp', 'tcp'] as const)
        reports.push(await relayToEchoPeer(children, { host: clusterIp, port: 3478 }, transport, fresh, peerPort, 20));
      return reports;
    })();

    // Every call keeps exchanging data for the whole hold.
    const progress = () => Promise.all(calls.map((call) => call.progress()));
    let last = await progress();
    while (Date.now() - terminatingSince < HOLD_MS) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      const now = await progress();
      now.forEach((call, i) =>
        expectFlowing(call, last[i]!, `${CALL_TRANSPORTS[i]} call`, Date.now() - terminatingSince),
      );
      last = now;
    }
    for (const report of await newAllocations) {
      expect(report.received).toBe(40);
      expect(report.lost).toBe(0);
    }

    // The draining pod's endpoint: terminating, not ready for new flows, still serving its own.
    const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
      namespace: ns,
      labelSelector: `kubernetes.io/service-name=${service.metadata!.name!}`,
    });
    const endpoint = slices.items.flatMap((slice) => slice.endpoints).find((ep) => ep?.targetRef?.name === busyName);
    expect(endpoint?.conditions).toEqual({ ready: false, serving: true, terminating: true });

    // Nothing new reached the draining pod (not even to be refused); the other pod took it.
    const during = await relayPodMetrics(ns, busyName);
    for (const result of ['success', 'draining'])
      expect(sample(during, `turnrelay_allocations_total{result="${result}"}`)).toBe(
        sample(before, `turnrelay_allocations_total{result="${result}"}`),
      );
    expect(sample(during, 'turnrelay_draining')).toBe(1);
    expect(
      sample(await relayPodMetrics(ns, idleName), 'turnrelay_allocations_total{result="success"}'),
    ).toBeGreaterThanOrEqual(4);

    // Hang up: the pod's allocations end, its drain finishes and it exits 0, well within the grace period.
    for (const call of calls.splice(0)) await call.close();
    await waitFor(
      'the drained pod gone',
      async () =>
        core.readNamespacedPod({ namespace: ns, name: busyName }).then(
          () => false,
          () => true,
        ),
      GRACE_SECONDS * 1000 - (Date.now() - terminatingSince),
      500,
    );
    const drained = (await logs)
      .split('\n')
      .filter((line) => line.includes('"drain finished"'))
      .map((line) => JSON.parse(line) as { allocations: number });
    expect(drained).toEqual([expect.objectContaining({ allocations: 0 })]);
    expect(termination.exitCode()).toBe(0);
    process.stderr.write(`drain: the pod was gone ${Date.now() - terminatingSince} ms after its deletion\n`);
  } finally {
    termination.stop();
  }
}, 600_000);
