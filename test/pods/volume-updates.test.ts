// Config and Secret updates reach a running relay pod through kubelet's
// volume updates (the atomic ..data swap), without a restart: a peer-policy
// change (allowCIDRs, then allowServices resolved from a Service's
// EndpointSlice), a new TLS certificate, and the operator rotating the auth
// Secret while a Chromium call allocated with the old credentials goes on.
// The pod's relay starts with the spec.coalesceMicroseconds it was given.
import { execFile } from 'node:child_process';
import { applyYaml } from '../k8s/delivery-kubectl.js';
import { deleteTestNamespace } from '../k8s/harness/cluster.js';
import { NODE_NETWORK } from '../k8s/harness/node-network.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { waitFor } from '../k8s/operator-fixtures.js';
import { inNetns } from '../interop/harness/uclient.js';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { FIELD_MANAGER } from './harness/operator-install.js';
import { nodeIp, nodeNetns } from './harness/pods-env.js';
import { usePodsFixture } from './harness/pods-fixture.js';
import { relayPodMetrics, relayStartedLog, relayToEchoPeer, sample, startEchoPeer } from './harness/relay-clients.js';
import { tlsSecretJson, waitForRelayReady } from './harness/relay-pods.js';

const fixture = usePodsFixture();

describe('updates reach running pods through kubelet volume updates', () => {
  test('an allowCIDRs and an allowServices change (ConfigMap), a new TLS certificate and the operator rotating the auth Secret take effect without a restart', async () => {
    const namespace = await fixture.createNamespace('pods-updates');
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
          // Not the default (1000): the pod's relay must have read it from the rendered config.
          coalesceMicroseconds: 2000,
        },
      });
    await applyYaml(relay({ allowCIDRs: [] }), { fieldManager: FIELD_MANAGER });
    await waitForRelayReady(fixture.rest, namespace, 'updates');
    const core = fixture.core;
    const initialPods = (await core.listNamespacedPod({ namespace })).items;
    const podsBefore = initialPods.map((pod) => pod.metadata!.uid);
    expect(await relayStartedLog(namespace, initialPods[0]!.metadata!.name!)).toMatchObject({
      dataPlane: 'native',
      threads: 1,
      coalesceMicros: 2000,
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
    const call = await fixture.openCall(oldIce, 'udp', 'rotation', 250);
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
    await fixture.expectChromiumRelays(await mintWithCli(namespace, 'updates', 'browser'), ['tls']);

    const { port: peerPort } = await startEchoPeer(fixture.children);
    // A new user per attempt: a refused attempt leaves its allocation behind, counted against the user's quota.
    let attempt = 0;
    const relayTo = (credentials: { username: string; credential: string }, host = nodeIp(), port = peerPort) =>
      relayToEchoPeer(fixture.children, { host: clusterIp, port: 3478 }, 'udp', credentials, port, 5, {
        peerHost: host,
      }).then(
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
    const { port: sfuPort } = await startEchoPeer(fixture.children, sfuHost);
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
    for (const open of fixture.calls.splice(0)) await open.close();

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
