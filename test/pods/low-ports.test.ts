// TURN on the well-known ports on a real node: TLS on 443 and TCP on 80,
// with the relay still non-root under the restricted security context, on
// the pod network and on the host network.
import { applyYaml } from '../k8s/delivery-kubectl.js';
import { deleteTestNamespace } from '../k8s/harness/cluster.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { FIELD_MANAGER } from './harness/operator-install.js';
import { nodeIp } from './harness/pods-env.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { relayToEchoPeer, startEchoPeer } from './harness/relay-clients.js';
import { tlsSecretJson, waitForRelayReady } from './harness/relay-pods.js';

const fixture = usePodsFixture();

describe('TURN over TLS on 443 and TCP on 80, relay still non-root', () => {
  // Two relays side by side, one per network mode, each with TLS on 443 and TCP
  // on 80. The node's containerd does not lower the unprivileged-port sysctl by
  // itself (test/k8s/harness/node.ts), so the pods bind these ports only with
  // what the operator renders: the sysctl on the pod network, NET_BIND_SERVICE
  // and the image's launcher on the host network.
  test('on the pod network through the ClusterIP Service, and on the host network at the node address', async () => {
    const namespace = await fixture.createNamespace('pods-lowports');
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
    for (const name of ['pod-net', 'host-net']) await waitForRelayReady(fixture.rest, namespace, name);

    const core = fixture.core;
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
    const { port: peerPort } = await startEchoPeer(fixture.children);
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
          fixture.children,
          { host, port },
          transport,
          { username, credential },
          peerPort,
          10,
        );
        // uclient's TLS reader takes each TLS record for one whole message. When the relay's
        // socket still has a write pending, Node sends what queued behind it in one record
        // (legal TLS: records carry no message boundaries), and uclient then drops the frame
        // that shared the record. Chromium below reads TLS as a stream; here uclient may count
        // up to two frames fewer than it sent over TLS, and none fewer over TCP (its TCP reader
        // parses by length).
        expect({ name, transport, sent: report.sent }).toEqual({ name, transport, sent: 20 });
        expect(report.received).toBeLessThanOrEqual(20);
        expect(report.received).toBeGreaterThanOrEqual(transport === 'tls' ? 18 : 20);
      }
      if (name === 'pod-net') await fixture.expectChromiumRelays(ice, ['tcp', 'tls']);
    }
    await deleteTestNamespace(namespace);
  }, 400_000);
});
