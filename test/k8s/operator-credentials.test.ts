// Credentials survive: the auth Secret is byte-identical across operator
// restarts and re-applies, rotation keeps the previous secret for the
// credential TTL, a user's own Secret is never modified, and the CLI's
// mintFromCluster signs with the newest secret.
import { testKubeconfigPath } from './harness/cluster.js';
import {
  applyRelay,
  relayObject,
  authSecretLines,
  condition,
  getRelay,
  setLoadBalancerIngress,
  waitFor,
  waitForCondition,
  rest,
  ns,
  useOperatorsPerTest,
} from './operator-fixtures.js';
import { mintFromCluster } from '../../operator/credentials.js';
import { restPassword } from '../../relay/auth/rest-credentials.js';

const runOperator = useOperatorsPerTest('op-creds');

const relay = relayObject;
const BASE = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };
const rawSecret = async (name: string) =>
  await rest.find<{ data?: Record<string, string>; metadata?: { resourceVersion?: string } }>(
    `/api/v1/namespaces/${ns}/secrets/${name}`,
  );

test('the auth Secret is byte-identical across operator restarts and re-applies', async () => {
  const op = await runOperator();
  await applyRelay(rest, ns, relay('keep', BASE));
  const first = await waitFor('auth Secret', () => rawSecret('keep-turn-auth'));
  expect(first.data?.['secrets']).toBeDefined();
  await op.stop();

  await applyRelay(rest, ns, relay('keep', { ...BASE, realm: 'other.example.com' }));
  await runOperator();
  const relayObj = await waitFor('new generation observed', async () => {
    const r = await getRelay(rest, ns, 'keep');
    return r?.status?.['observedGeneration'] === r?.metadata?.generation && r?.metadata?.generation === 2
      ? r
      : undefined;
  });
  expect(relayObj.status?.['authSecretName']).toBe('keep-turn-auth');
  const after = await rawSecret('keep-turn-auth');
  expect(after?.data).toEqual(first.data);
  expect(after?.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
});

test('rotation stages a new secret, promotes it after the propagation delay, and keeps the previous one for the credential TTL', async () => {
  let now = Date.now();
  await runOperator({ now: () => now });
  await applyRelay(rest, ns, relay('rot', { ...BASE, auth: { rotationInterval: '10m', credentialTTL: '5m' } }));
  const [a] = await waitFor(
    'first secret',
    async () =>
      (await authSecretLines(rest, ns, 'rot-turn-auth'))?.length === 1 && authSecretLines(rest, ns, 'rot-turn-auth'),
  );
  expect(a).toMatch(/^\S{20,}$/);

  now += 10 * 60_000 + 1_000; // past the rotation interval; resync runs the reconcile
  const staged = await waitFor('rotation', async () => {
    const lines = await authSecretLines(rest, ns, 'rot-turn-auth');
    return lines?.length === 2 ? lines : undefined;
  });
  // a still signs; b verifies, so relays learn it before any credential is minted with it.
  expect(staged[0]).toBe(a);
  const b = staged[1]!;
  expect(b).not.toBe(a);

  now += 2 * 60_000; // the propagation delay has passed: b signs, a verifies what was minted with it
  await waitFor('promotion', async () => (await authSecretLines(rest, ns, 'rot-turn-auth'))?.join() === [b, a].join());

  now += 2 * 60_000; // inside the overlap: nothing changes
  await new Promise((r) => setTimeout(r, 2_500));
  expect(await authSecretLines(rest, ns, 'rot-turn-auth')).toEqual([b, a]);

  now += 3 * 60_000 + 1_000; // overlap of credentialTTL has passed: the oldest goes
  await waitFor('old secret dropped', async () => (await authSecretLines(rest, ns, 'rot-turn-auth'))?.join() === b);
});

test('a Secret the operator did not create is only read, and the status says rotation is up to its owner', async () => {
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { metadata: { name: 'mine' }, stringData: { secrets: 'my-own-shared-secret\n' } },
  });
  const before = await rawSecret('mine');
  await runOperator();
  await applyRelay(rest, ns, relay('own', { ...BASE, auth: { secretRef: { name: 'mine' } } }));
  const r = await waitForCondition(rest, ns, 'own', 'Progressing', 'True');
  expect(r.status?.['authSecretName']).toBe('mine');
  expect(condition(r, 'Degraded')?.message).toMatch(/not created by the operator/);
  const after = await rawSecret('mine');
  expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
  expect(after?.data).toEqual(before?.data);
});

test('mintFromCluster signs a credential with the newest secret for the status ICE servers', async () => {
  await runOperator();
  await applyRelay(rest, ns, relay('mint', BASE));
  await setLoadBalancerIngress(rest, ns, 'mint', '198.51.100.9');
  await waitFor(
    'ICE servers in status',
    async () => (((await getRelay(rest, ns, 'mint'))?.status?.['iceServers'] as string[] | undefined) ?? []).length > 0,
  );
  const [newest] = (await authSecretLines(rest, ns, 'mint-turn-auth'))!;
  const now = Date.now();
  const out = await mintFromCluster({
    namespace: ns,
    name: 'mint',
    user: 'alice',
    ttlSeconds: 600,
    kubeconfig: testKubeconfigPath(),
    now,
  });
  const server = out.iceServers[0]!;
  expect(server.urls).toEqual(['turn:198.51.100.9:3478?transport=udp']);
  expect(server.username).toBe(`${Math.floor(now / 1000) + 600}:alice`);
  expect(server.credential).toBe(restPassword(newest!, server.username));
  await expect(
    mintFromCluster({ namespace: ns, name: 'absent', ttlSeconds: 60, kubeconfig: testKubeconfigPath() }),
  ).rejects.toThrow(`TurnRelay ${ns}/absent not found`);
});

test("mintFromCluster finds the auth Secret by the operator's own naming before the status reports it", async () => {
  // No operator runs: the status is empty, so the Secret name comes from the spec as the operator would derive it.
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { metadata: { name: 'by-hand' }, stringData: { secrets: 'hand-signing-secret\nolder\n' } },
  });
  await applyRelay(rest, ns, relay('early', { ...BASE, auth: { secretRef: { name: 'by-hand' } } }));
  expect((await getRelay(rest, ns, 'early'))?.status?.['authSecretName']).toBeUndefined();
  const out = await mintFromCluster({
    namespace: ns,
    name: 'early',
    user: 'bob',
    ttlSeconds: 60,
    kubeconfig: testKubeconfigPath(),
    urls: ['turn:192.0.2.1:3478?transport=udp'],
  });
  const server = out.iceServers[0]!;
  expect(server.credential).toBe(restPassword('hand-signing-secret', server.username));
  await applyRelay(rest, ns, relay('early-default', BASE));
  await expect(
    mintFromCluster({
      namespace: ns,
      name: 'early-default',
      ttlSeconds: 60,
      kubeconfig: testKubeconfigPath(),
      urls: ['turn:192.0.2.1:3478'],
    }),
  ).rejects.toThrow(`auth Secret ${ns}/early-default-turn-auth of TurnRelay ${ns}/early-default not found`);
});
