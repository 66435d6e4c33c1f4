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
import { DiscoveryV1Api, type V1Pod, Watch } from '@kubernetes/client-node';
import { applyYaml, kubectl } from '../k8s/delivery-kubectl.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { waitFor } from '../k8s/operator-fixtures.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { FIELD_MANAGER } from './harness/operator-install.js';
import { nodeIp } from './harness/pods-env.js';
import {
  expectCallsFlowing,
  isReady,
  livePods,
  tlsSecretJson,
  waitForDrainedPodGone,
  waitForRelayReady,
} from './harness/relay-pods.js';
import { relayAllocations, relayPodMetrics, relayToEchoPeer, sample, startEchoPeer } from './harness/relay-clients.js';

const NAME = 'drain';
const GRACE_SECONDS = 90;
/** How long the calls must keep going on the terminating pod: past its readiness probes' failure window (3 × 5 s). */
const HOLD_MS = 25_000;
const SAMPLE_MS = 2_500;
const CALL_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

const fixture = usePodsFixture();
const { calls, children } = fixture;

async function scaleTo(ns: string, replicas: number): Promise<V1Pod[]> {
  await kubectl(['scale', `turnrelay/${NAME}`, '-n', ns, `--replicas=${replicas}`]);
  return waitFor(
    `${replicas} Ready relay pod(s)`,
    async () => {
      const pods = await livePods(fixture.core, ns);
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
  void new Watch(fixture.kc)
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
  const { core } = fixture;
  const ns = await fixture.createNamespace('pods-drain');
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
  await waitForRelayReady(fixture.rest, ns, NAME);
  const [busy] = await scaleTo(ns, 1);
  const busyName = busy!.metadata!.name!;

  // Three calls, while this is the only pod behind the Service: it carries them all.
  const ice = await mintWithCli(ns, NAME, 'drain-calls');
  for (const name of CALL_TRANSPORTS) {
    const call = await fixture.openCall(ice, name, `drain-${name}`);
    for (const end of [call.connected.a, call.connected.b]) {
      expect(end.local.candidateType).toBe('relay');
      expect(end.local.relayProtocol).toBe(name);
    }
  }
  // Its metrics: at least the two allocations of each call.
  expect(await relayAllocations(ns, busyName)).toBeGreaterThanOrEqual(2 * calls.length);

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
    await expectCallsFlowing(calls, (i) => `${CALL_TRANSPORTS[i]} call`, terminatingSince, HOLD_MS, SAMPLE_MS);
    for (const report of await newAllocations) {
      expect(report.received).toBe(40);
      expect(report.lost).toBe(0);
    }

    // The draining pod's endpoint: terminating, not ready for new flows, still serving its own.
    const slices = await fixture.kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
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
    await waitForDrainedPodGone(core, ns, busyName, GRACE_SECONDS * 1000 - (Date.now() - terminatingSince));
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
