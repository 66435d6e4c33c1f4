// Autoscaling on real pods with a real metrics-server: a TurnRelay with CPU
// requests and autoscaling between 1 and 2 pods. Relayed traffic through the
// Service raises the relay's CPU; kubelet measures it, metrics-server serves it
// through the aggregated metrics.k8s.io API, and the HPA controller scales the
// Deployment to 2 Ready pods. Calls are then opened (Chromium, relay-only, UDP
// through the Service) until the newer pod, the one a ReplicaSet removes first,
// carries one. The load stops; the HPA scales back to 1, and the removed pod
// drains: it stays terminating while it carries the call's allocations, the
// calls keep exchanging data, and it exits once they have hung up and the
// load's abandoned allocations have expired.
//
// Test cluster settings (not product defaults): the HPA controller syncs every
// 5 s (test/k8s/harness/control-plane.ts), metrics-server scrapes every 10 s,
// and the TurnRelay asks for a 10 s scale-down window and a short grace period.
import type { V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { runUclient } from '../interop/harness/uclient.js';
import { applyYaml, kubectl } from '../k8s/delivery-kubectl.js';
import { NODE_NETWORK } from '../k8s/harness/node-network.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { waitFor } from '../k8s/operator-fixtures.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { startMetricsServer, type MetricsServer } from './harness/metrics-server.js';
import { FIELD_MANAGER } from './harness/operator-install.js';
import { nodeIp, nodeNetns } from './harness/pods-env.js';
import {
  expectCallsFlowing,
  isReady,
  livePods,
  waitForDrainedPodGone,
  waitForRelayReady,
} from './harness/relay-pods.js';
import { relayAllocations as allocations, startEchoPeer } from './harness/relay-clients.js';

const NAME = 'scaled';
const CPU_REQUEST_MILLIS = 40;
const TARGET_UTILIZATION = 50;
const GRACE_SECONDS = 120;
/** How long the calls must keep going on the terminating pod. */
const HOLD_MS = 15_000;
const SAMPLE_MS = 2_500;
/** Calls opened at most while waiting for one on the newer pod (each lands on either pod at random). */
const MAX_CALLS = 6;

const fixture = usePodsFixture();
const { calls, children } = fixture;
let metricsServer: MetricsServer | undefined;

beforeAll(async () => {
  const started = Date.now();
  metricsServer = await startMetricsServer({ kc: fixture.kc, netnsPath: nodeNetns(), nodeIp: nodeIp() });
  process.stderr.write(`autoscaling: metrics-server available in ${Date.now() - started} ms\n`);
}, 300_000);

// Declared after the fixture's: jest runs after-hooks in declaration order.
afterAll(async () => {
  await metricsServer?.stop();
}, 60_000);

const readyAt = (pod: V1Pod) =>
  Date.parse(String(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? 0));

async function readHpa(ns: string): Promise<V2HorizontalPodAutoscaler> {
  return JSON.parse(
    await kubectl(['get', 'horizontalpodautoscaler.v2.autoscaling', NAME, '-n', ns, '-o', 'json']),
  ) as V2HorizontalPodAutoscaler;
}

/** The HPA's measured CPU utilisation, when it has one. */
const measuredUtilization = (hpa: V2HorizontalPodAutoscaler) =>
  hpa.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current
    .averageUtilization;

test('CPU load scales the relay to 2 pods on metrics-server data; the scale-down drains the removed pod without cutting its call', async () => {
  const { core } = fixture;
  const ns = await fixture.createNamespace('pods-hpa');
  await applyYaml(
    JSON.stringify({
      apiVersion: 'turnrelay.dev/v1alpha1',
      kind: 'TurnRelay',
      metadata: { name: NAME, namespace: ns },
      spec: {
        realm: 'turn.pods.test',
        listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }],
        network: { mode: 'LoadBalancer', service: { type: 'ClusterIP' } },
        // The echo peer on the node address, and the pod network: the two
        // ends of a call may land on different relay pods, and each pod's
        // relayed address is its pod IP, which the default policy refuses
        // as private.
        peers: { allowCIDRs: [`${nodeIp()}/32`, NODE_NETWORK.podSubnet] },
        resources: { requests: { cpu: `${CPU_REQUEST_MILLIS}m`, memory: '64Mi' } },
        autoscaling: {
          minReplicas: 1,
          maxReplicas: 2,
          targetCPUUtilization: TARGET_UTILIZATION,
          scaleDownStabilization: '10s',
        },
        // A load burst is one user with many sessions. turnutils_uclient
        // exits without releasing its allocations, so the shortest lifetime
        // lets the ones it leaves on the removed pod expire within a minute
        // (browsers refresh theirs at half the lifetime).
        limits: { maxAllocationsPerUser: 50, maxLifetime: '1m' },
        drain: { gracePeriod: `${GRACE_SECONDS}s` },
      },
    }),
    { fieldManager: FIELD_MANAGER },
  );
  await waitForRelayReady(fixture.rest, ns, NAME);

  // Before any load: the HPA has a CPU reading from metrics-server, below its target, for one pod.
  const idle = await waitFor(
    'the HPA measuring idle CPU for one pod',
    async () => {
      const hpa = await readHpa(ns);
      const utilization = measuredUtilization(hpa);
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      return utilization !== undefined && utilization < TARGET_UTILIZATION && pods.length === 1 ? hpa : undefined;
    },
    120_000,
    1000,
  );
  expect(idle.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({
    status: 'True',
    reason: 'ValidMetricFound',
  });
  expect(idle.spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(10);
  const [first] = await livePods(core, ns);
  const podCpu = await metricsServer!.podCpuMillis(ns);
  expect([...podCpu.keys()]).toEqual([first!.metadata!.name]);
  process.stderr.write(
    `autoscaling: idle relay ${podCpu.get(first!.metadata!.name!)!.toFixed(1)}m CPU, HPA ${measuredUtilization(idle)}%\n`,
  );

  // Load: relayed UDP through the Service to an echo peer, in bounded bursts
  // (each one its own user), until the HPA has scaled to 2 Ready pods.
  const service = (await core.listNamespacedService({ namespace: ns })).items[0]!;
  const clusterIp = service.spec!.clusterIP!;
  const { port: peerPort } = await startEchoPeer(children);
  const loadState = { loading: true };
  let bursts = 0;
  let peakUtilization = 0;
  const load = (async () => {
    while (loadState.loading && bursts < 30) {
      const { username, credential } = (await mintWithCli(ns, NAME, `load-${bursts++}`)).iceServers[0]!;
      await runUclient(children, {
        server: { host: clusterIp, port: 3478 },
        transport: 'udp',
        method: 'channel-data',
        auth: { kind: 'long-term', user: username, password: credential },
        peer: { kind: 'echo', host: nodeIp(), port: peerPort },
        sessions: 20,
        messages: 3000,
        size: 200,
        intervalMs: 1,
        timeoutMs: 60_000,
        netnsPath: nodeNetns(),
      });
    }
  })();
  let pods: V1Pod[];
  try {
    pods = await waitFor(
      'the HPA scaling to 2 Ready relay pods',
      async () => {
        const hpa = await readHpa(ns);
        peakUtilization = Math.max(peakUtilization, measuredUtilization(hpa) ?? 0);
        const live = await livePods(core, ns);
        return hpa.status?.desiredReplicas === 2 && live.length === 2 && live.every(isReady) ? live : undefined;
      },
      240_000,
      1000,
    );
    expect(peakUtilization).toBeGreaterThan(TARGET_UTILIZATION);
    process.stderr.write(`autoscaling: scaled up after ${bursts} load burst(s), peak ${peakUtilization}%\n`);

    // Calls through the Service until the newer pod, the ReplicaSet's first
    // choice on scale-down, carries an allocation of one.
    const newer = pods.sort((a, b) => readyAt(b) - readyAt(a))[0]!.metadata!.name!;
    const ice = await mintWithCli(ns, NAME, 'hpa-calls');
    while ((await allocations(ns, newer)) === 0 && calls.length < MAX_CALLS) {
      const call = await fixture.openCall(ice, 'udp', `hpa-${calls.length}`);
      expect(call.connected.a.local.relayProtocol).toBe('udp');
    }
    expect(await allocations(ns, newer)).toBeGreaterThan(0);
  } finally {
    loadState.loading = false;
    await load;
  }
  const loadEnded = Date.now();

  // Load over: the HPA scales down to 1 and a pod that carries a call terminates.
  const doomed = await waitFor(
    'a relay pod terminating on scale-down',
    async () => {
      const terminating = (await core.listNamespacedPod({ namespace: ns })).items.find(
        (pod) => pod.metadata?.deletionTimestamp,
      );
      return terminating?.metadata?.name;
    },
    180_000,
    500,
  );
  const terminatingSince = Date.now();
  // The controller scales the Deployment before it writes its own status.
  const hpa = await waitFor(
    'the HPA status at 1 desired replica',
    async () => {
      const read = await readHpa(ns);
      return read.status?.desiredReplicas === 1 ? read : undefined;
    },
    30_000,
    500,
  );
  expect(hpa.status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason).toBe('ValidMetricFound');
  process.stderr.write(`autoscaling: scale-down began ${terminatingSince - loadEnded} ms after the load ended\n`);
  expect(await allocations(ns, doomed)).toBeGreaterThan(0);

  // Every call keeps exchanging data while the pod drains, and the pod stays.
  await expectCallsFlowing(calls, (i) => `call ${i}`, terminatingSince, HOLD_MS, SAMPLE_MS);
  const draining = await core.readNamespacedPod({ namespace: ns, name: doomed });
  expect(draining.metadata?.deletionTimestamp).toBeDefined();
  expect(draining.status?.containerStatuses?.find((s) => s.name === 'relay')?.state?.running).toBeDefined();

  // Hang up: its allocations end, and it exits well within its grace period.
  for (const call of calls.splice(0)) await call.close();
  await waitForDrainedPodGone(core, ns, doomed, GRACE_SECONDS * 1000 - (Date.now() - terminatingSince) - 10_000);
  process.stderr.write(
    `autoscaling: the drained pod was gone ${Date.now() - terminatingSince} ms after its deletion\n`,
  );
  const remaining = await livePods(core, ns);
  expect(remaining).toHaveLength(1);
  expect(remaining.every(isReady)).toBe(true);
}, 900_000);
