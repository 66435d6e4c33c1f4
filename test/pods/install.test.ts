// The operator installed the ways users install it, on real pods: the Helm
// chart (two replicas, leader election), then deploy/install.yaml instead;
// each time the operator image's pods become Ready and one leads, and a
// TurnRelay from the samples is reconciled into relay pods that kubelet starts
// from the relay image (non-root, read-only root file system, probes gating
// readiness). turnutils_uclient relays UDP and TCP through the relay's
// Service, routed by kube-proxy, to an echo peer, and Chromium (in the node's
// network namespace) exchanges data-channel messages between two relay-only
// peer connections over UDP and TCP through the same Service. Credentials
// come from the CLI the way an application server would mint them. The file
// leaves the manifest's operator installed for the files after it.
//
// Adapted to the test cluster: no cloud load balancer, so the Service is a
// ClusterIP (its cluster IP is what the relay advertises), and the echo peer
// runs on the node's private address, which the TurnRelay allows explicitly.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { applyYaml } from '../k8s/delivery-kubectl.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { readSample, waitFor } from '../k8s/operator-fixtures.js';
import {
  FIELD_MANAGER,
  OPERATOR_NAMESPACE,
  applyInstallManifest,
  helmInstallOperator,
  helmUninstallOperator,
  removeInstalledOperator,
} from './harness/operator-install.js';
import { nodeIp } from './harness/pods-env.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { waitForRelayReady } from './harness/relay-pods.js';
import { deleteTestNamespace } from '../k8s/harness/cluster.js';

const fixture = usePodsFixture({ operator: false });

/** The operator's pods are the image from the chart/manifest, both Ready, exactly one holding the lease. */
async function expectTwoOperatorsOneLeader(): Promise<void> {
  const ready = await waitFor(
    'two Ready operator pods',
    async () => {
      const pods = await fixture.core.listNamespacedPod({
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
  const leases = fixture.kc.makeApiClient(CoordinationV1Api);
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
  const namespace = await fixture.createNamespace(prefix);
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
  await waitForRelayReady(fixture.rest, namespace, 'udp-only');

  const pods = (await fixture.core.listNamespacedPod({ namespace })).items;
  expect(pods.length).toBeGreaterThan(0);
  for (const pod of pods) {
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.every((status) => status.ready && status.restartCount === 0)).toBe(true);
    expect(pod.spec!.containers[0]!.image).toMatch(/^ghcr\.io\/turnrelay\/turnrelay:/);
  }
  const service = (await fixture.core.listNamespacedService({ namespace })).items.find((svc) =>
    svc.spec?.ports?.some((port) => port.port === 3478),
  );
  const clusterIp = service?.spec?.clusterIP ?? '';
  expect(clusterIp).toMatch(/^10\.0\.0\.\d+$/);

  const ice = await mintWithCli(namespace, 'udp-only', 'pods-test');
  expect(ice.iceServers[0]!.urls.join(' ')).toContain(clusterIp);
  await fixture.expectUdpTcpRelayed(ice, clusterIp);
  await deleteTestNamespace(namespace);
}

describe('installed with the Helm chart', () => {
  beforeAll(async () => {
    await removeInstalledOperator();
    await helmInstallOperator();
  }, 420_000);

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
