// HostNetwork mode on a real node: the p2p example (one node labelled for
// it) becomes Ready with the relay on the node's network, its data plane
// running one thread per CPU of its limit, and turnutils_uclient and Chromium
// (relay-only) relay UDP and TCP at the node address.
import { kubectl } from '../k8s/delivery-kubectl.js';
import { NODE_NAME } from '../k8s/harness/node.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { deleteTestNamespace } from '../k8s/harness/cluster.js';
import { applyExampleOnTestNode } from './harness/examples.js';
import { FIELD_MANAGER } from './harness/operator-install.js';
import { nodeIp } from './harness/pods-env.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { relayStartedLog } from './harness/relay-clients.js';
import { DEFAULT_COALESCE_MICROS } from '../../relay/dataplane/native/native-data-plane.js';
import { waitForRelayReady } from './harness/relay-pods.js';

const fixture = usePodsFixture();

describe('HostNetwork mode', () => {
  test('the p2p example (one labelled node) becomes Ready on the node network and relays UDP and TCP on the node address', async () => {
    const namespace = await fixture.createNamespace('pods-hostnet');
    await kubectl(['label', 'node', NODE_NAME, 'turnrelay.dev/edge=true', '--overwrite']);
    // A limit of 2 CPUs (all this node has; a small request, so it schedules
    // next to the operator): the data plane runs one thread per CPU.
    await applyExampleOnTestNode('p2p-hostnetwork.yaml', 'p2p', namespace, FIELD_MANAGER, {
      resources: { requests: { cpu: '100m' }, limits: { cpu: '2', memory: '512Mi' } },
    });
    await waitForRelayReady(fixture.rest, namespace, 'p2p');
    const pods = (await fixture.core.listNamespacedPod({ namespace })).items;
    expect(pods).toHaveLength(1);
    expect(pods[0]!.spec!.hostNetwork).toBe(true);
    expect(pods[0]!.status!.podIP).toBe(nodeIp());
    expect(await relayStartedLog(namespace, pods[0]!.metadata!.name!)).toMatchObject({
      dataPlane: 'native',
      threads: 2,
      // The example leaves spec.coalesceMicroseconds out: the relay's own default.
      coalesceMicros: DEFAULT_COALESCE_MICROS,
    });

    const ice = await mintWithCli(namespace, 'p2p', 'hostnet');
    expect(ice.iceServers[0]!.urls.join(' ')).toContain(nodeIp());
    // uclient and Chromium: the relayed candidates are the node address.
    await fixture.expectUdpTcpRelayed(ice, nodeIp());
    await deleteTestNamespace(namespace);
  }, 400_000);
});
