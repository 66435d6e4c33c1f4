// A TurnRelay behind a LoadBalancer Service whose address comes from a real
// implementation: MetalLB (controller and speaker from its Go module, its own
// chart and CRDs) in L2 mode on a bridge of the node's namespace. The
// sfu-loadbalancer example (adapted: one replica, the echo peer on the node
// address instead of an SFU, a short drain) gets an address from MetalLB's
// pool; the operator's normal code path turns that ingress into
// status.iceServers and the relay's external address; turnutils_uclient in a
// client namespace on the bridge, with no route but the bridge's subnet,
// relays UDP and TCP through the LoadBalancer IP, which it reaches because the
// speaker answered its ARP request, and kube-proxy's LoadBalancer rules
// forward to the relay pod.
import { CoreV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';
import { ChildSet } from '../interop/harness/children.js';
import { inNetns } from '../interop/harness/uclient.js';
import { kubectl } from '../k8s/delivery-kubectl.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../k8s/harness/cluster.js';
import { NODE_NAME } from '../k8s/harness/node.js';
import { mintWithCli } from '../k8s/ice-credentials.js';
import { adminRest, getRelay, waitFor } from '../k8s/operator-fixtures.js';
import {
  createLbClient,
  installMetallb,
  LB_NETWORK,
  METALLB_NAMESPACE,
  type LbClient,
  type MetalLb,
} from './harness/metallb.js';
import { useInstalledOperator } from './harness/operator-install.js';
import { applyExampleOnTestNode } from './harness/examples.js';
import { nodeNetns } from './harness/pods-env.js';
import { relayToEchoPeer, startEchoPeer } from './harness/relay-clients.js';
import { waitForRelayReady } from './harness/relay-pods.js';

const FIELD_MANAGER = 'turnrelay-pods-metallb-test';

let kc: KubeConfig;
let rest: KubeRest;
let metallb: MetalLb | undefined;
let client: LbClient | undefined;
const children = new ChildSet();
const namespaces: string[] = [];

beforeAll(async () => {
  kc = testKubeConfig();
  rest = await adminRest(kc);
  metallb = await installMetallb(nodeNetns());
  client = await createLbClient(nodeNetns());
  await useInstalledOperator(kc);
}, 400_000);

afterAll(async () => {
  await children.stopAll();
  for (const namespace of namespaces) await deleteTestNamespace(namespace);
  await client?.remove();
  await metallb?.uninstall();
}, 300_000);

/** Whether an IPv4 address lies in a CIDR. */
function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base!) / size);
}

/** One UDP datagram from the client namespace, so its kernel asks for the address's MAC. */
async function sendFromClient(ip: string): Promise<void> {
  const script = `const s=require('node:dgram').createSocket('udp4');s.send('x',3478,'${ip}',()=>s.close());`;
  const [command, args] = inNetns(client!.path, process.execPath, ['-e', script]);
  await children.run(command, args, { timeoutMs: 10_000 });
}

test("the sfu-loadbalancer example gets its address from MetalLB's pool, advertises it, and relays UDP and TCP through it from a client that reached it by the speaker's ARP answer", async () => {
  const namespace = await createTestNamespace('pods-metallb');
  namespaces.push(namespace);
  await applyExampleOnTestNode('sfu-loadbalancer.yaml', 'sfu-edge', namespace, FIELD_MANAGER);

  // MetalLB's controller assigns an address from the pool; the operator waits for it before Ready.
  const core = kc.makeApiClient(CoreV1Api);
  const service = await waitFor(
    'a LoadBalancer ingress on the relay Service',
    async () =>
      (await core.listNamespacedService({ namespace })).items.find(
        (svc: V1Service) => svc.spec?.type === 'LoadBalancer' && svc.status?.loadBalancer?.ingress?.[0]?.ip,
      ),
    120_000,
    500,
  );
  const lbIp = service.status!.loadBalancer!.ingress![0]!.ip!;
  expect(inCidr(lbIp, LB_NETWORK.pool)).toBe(true);
  expect(service.metadata?.annotations?.['metallb.io/ip-allocated-from-pool']).toBe('test-pool');
  expect(service.spec?.externalTrafficPolicy).toBe('Local');
  await waitForRelayReady(rest, namespace, 'sfu-edge');

  // The operator's normal code path: the ingress is what clients are told and what the relay advertises.
  const relay = await getRelay(rest, namespace, 'sfu-edge');
  const iceServers = (relay as { status?: { iceServers?: string[] } }).status?.iceServers ?? [];
  expect(iceServers).toEqual(
    expect.arrayContaining([`turn:${lbIp}:3478?transport=udp`, `turn:${lbIp}:3478?transport=tcp`]),
  );
  expect(iceServers.join(' ')).not.toContain(service.spec!.clusterIP!);
  const configMap = await core.readNamespacedConfigMap({ namespace, name: 'sfu-edge-config' });
  const relayConfig = parse(configMap.data!['config.yaml']!) as { relay: { externalAddress?: string } };
  expect(relayConfig.relay.externalAddress).toBe(lbIp);

  // ARP: an unassigned pool address gets no answer; the assigned one gets the speaker's.
  const unassigned = lbIp === '10.78.0.254' ? '10.78.0.253' : '10.78.0.254';
  await sendFromClient(unassigned);
  await sendFromClient(lbIp);
  await waitFor(
    'the speaker answering ARP for the LoadBalancer IP',
    async () => (await client!.neighbour(lbIp))?.lladdr,
    30_000,
    200,
  );
  expect((await client!.neighbour(lbIp))?.lladdr).toBe(metallb!.bridgeMac);
  const l2Status = JSON.parse(await kubectl(['get', 'servicel2statuses', '-n', METALLB_NAMESPACE, '-o', 'json'])) as {
    items: {
      status?: { serviceName?: string; serviceNamespace?: string; node?: string; interfaces?: { name?: string }[] };
    }[];
  };
  expect(l2Status.items.map((item) => item.status)).toContainEqual(
    expect.objectContaining({
      serviceName: service.metadata!.name,
      serviceNamespace: namespace,
      node: NODE_NAME,
      interfaces: [{ name: LB_NETWORK.bridge }],
    }),
  );
  const silent = await client!.neighbour(unassigned);
  expect(silent?.lladdr).toBeUndefined();

  const { port: peerPort } = await startEchoPeer(children);
  const ice = await mintWithCli(namespace, 'sfu-edge', 'metallb-test');
  expect(ice.iceServers[0]!.urls).toEqual(expect.arrayContaining(iceServers.filter((url) => url.startsWith('turn:'))));
  const { username, credential } = ice.iceServers[0]!;
  for (const transport of ['udp', 'tcp'] as const) {
    const report = await relayToEchoPeer(
      children,
      { host: lbIp, port: 3478 },
      transport,
      { username, credential },
      peerPort,
      20,
      { netnsPath: client!.path, verbose: true },
    );
    // What the relay told the client: its relayed address is the LoadBalancer IP.
    expect(report.relayedAddresses.length).toBeGreaterThanOrEqual(2); // at least one allocation per session
    for (const address of report.relayedAddresses)
      expect(address).toMatch(new RegExp(`^${lbIp.replaceAll('.', '\\.')}:\\d+$`));
    expect(report.sent).toBe(40);
    expect(report.received).toBe(40);
    expect(report.lost).toBe(0);
  }
  // Still the speaker's MAC after the traffic (no other answer replaced it).
  expect((await client!.neighbour(lbIp))?.lladdr).toBe(metallb!.bridgeMac);
}, 400_000);
