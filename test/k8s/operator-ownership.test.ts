// The operator never harms what it does not own and never spins: objects
// that already carry a child's name stay byte-identical through a
// TurnRelay's whole life, a Secret two relays name has one writer, Secret
// problems show in status and their fixes are seen in seconds, a child pruned
// under a forged owner comes back at once, drift fights make one Event, and a
// 720h rotation leaves the operator silent at rest.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  applyRelay,
  condition,
  countRequests,
  getRelay,
  liveChildren,
  relayObject,
  waitFor,
  waitForCondition,
  rest,
  ns,
  useOperatorsPerTest,
} from './operator-fixtures.js';
import { CONTENT } from '../../operator/runtime/kube-rest.js';
import { selfSigned, tlsSecretData } from '../unit/operator/support/tls.js';

const runOperator = useOperatorsPerTest('op-own');

const UDP = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };
// A resync far beyond each test: whatever the operator notices, it notices through watches.
const NO_RESYNC = { resyncMs: 10 * 60_000 };
const path = (plural: string, name: string) => `/api/v1/namespaces/${ns}/${plural}/${name}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function events(involved: string, reason: string) {
  const list = await rest.list<{
    reason?: string;
    type?: string;
    count?: number;
    message?: string;
    involvedObject?: { name?: string };
  }>(`/api/v1/namespaces/${ns}/events`);
  return list.items.filter((e) => e.involvedObject?.name === involved && e.reason === reason);
}

test("objects that already carry the children's names stay byte-identical through create, reconcile and delete", async () => {
  const mine: Array<[string, KubernetesObject]> = [
    [
      'services',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'api', labels: { app: 'users-api' } },
        spec: { type: 'ClusterIP', selector: { app: 'users-api' }, ports: [{ port: 80 }] },
      } as KubernetesObject,
    ],
    [
      'configmaps',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'api-config' },
        data: { 'settings.json': '{"keep":true}' },
      } as KubernetesObject,
    ],
    ['serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api' } }],
    [
      'secrets',
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'api-turn-auth' },
        type: 'Opaque',
        data: { password: Buffer.from('hunter2').toString('base64') },
      } as KubernetesObject,
    ],
  ];
  for (const [plural, obj] of mine) await rest.request('POST', `/api/v1/namespaces/${ns}/${plural}`, { body: obj });
  const before = await Promise.all(
    mine.map(([plural, o]) => rest.get<KubernetesObject>(path(plural, o.metadata!.name!))),
  );

  await runOperator();
  await applyRelay(rest, ns, relayObject('api', UDP));
  const r = await waitForCondition(rest, ns, 'api', 'Ready', 'False', 'NameConflict');
  expect(condition(r, 'Ready')?.message).toMatch(
    /ServiceAccount api \(no controller\).*ConfigMap api-config \(no controller\).*Service api \(no controller\)/,
  );
  expect(condition(r, 'Degraded')).toMatchObject({ status: 'True', reason: 'NameConflict' });
  const warned = await waitFor('NameConflict event', async () =>
    (await events('api', 'NameConflict')).find((e) => e.type === 'Warning'),
  );
  expect(warned.message).toMatch(/Service api/);
  await sleep(3_000); // many resyncs of 1 s and conflict retries
  expect(await liveChildren(rest, ns, 'api')).toEqual([]);

  await rest.request('DELETE', `/apis/turnrelay.dev/v1alpha1/namespaces/${ns}/turnrelays/api`);
  await waitFor('TurnRelay api gone', async () => !(await getRelay(rest, ns, 'api')));
  // The real garbage collector runs: a relay that owns its children loses them when it goes.
  await applyRelay(rest, ns, relayObject('probe', UDP));
  await waitFor('probe children', async () => (await liveChildren(rest, ns, 'probe')).length === 6);
  await rest.request('DELETE', `/apis/turnrelay.dev/v1alpha1/namespaces/${ns}/turnrelays/probe`);
  await waitFor(
    'probe children collected',
    async () =>
      (await liveChildren(rest, ns, 'probe')).length === 0 && !(await rest.find(path('secrets', 'probe-turn-auth'))),
    90_000,
  );

  const after = await Promise.all(
    mine.map(([plural, o]) => rest.get<KubernetesObject>(path(plural, o.metadata!.name!))),
  );
  expect(after).toEqual(before);
}, 150_000);

test('two relays naming one Secret never both write it: its creator rotates, the other only reads', async () => {
  let now = Date.now();
  await runOperator({ now: () => now });
  await applyRelay(rest, ns, relayObject('owner', { ...UDP, auth: { rotationInterval: '24h', credentialTTL: '1h' } }));
  const created = await waitFor('owner Secret', () => rest.find<KubernetesObject>(path('secrets', 'owner-turn-auth')));
  await applyRelay(
    rest,
    ns,
    relayObject('reader', {
      ...UDP,
      auth: { secretRef: { name: 'owner-turn-auth' }, rotationInterval: '1m', credentialTTL: '1m' },
    }),
  );
  const reader = await waitFor('reader status', async () => {
    const r = await getRelay(rest, ns, 'reader');
    return /rotated by TurnRelay owner; this relay only reads it/.test(condition(r, 'Degraded')?.message ?? '')
      ? r
      : undefined;
  });
  expect(reader.status?.['authSecretName']).toBe('owner-turn-auth');

  now += 2 * 3_600_000; // many of the reader's intervals, none of the owner's
  await applyRelay(
    rest,
    ns,
    relayObject('reader', {
      ...UDP,
      realm: 'b.example.com',
      auth: { secretRef: { name: 'owner-turn-auth' }, rotationInterval: '1m', credentialTTL: '1m' },
    }),
  );
  await waitFor(
    'reader reconciled',
    async () => (await getRelay(rest, ns, 'reader'))?.status?.['observedGeneration'] === 2,
  );
  await sleep(2_500);
  expect((await rest.get<KubernetesObject>(path('secrets', 'owner-turn-auth'))).metadata?.resourceVersion).toBe(
    created.metadata?.resourceVersion,
  );

  now += 24 * 3_600_000; // the owner's interval: it rotates, alone
  await waitFor(
    'owner rotated',
    async () =>
      (await rest.get<KubernetesObject>(path('secrets', 'owner-turn-auth'))).metadata?.resourceVersion !==
      created.metadata?.resourceVersion,
  );
}, 90_000);

test('a bad TLS Secret reports CertificateReady=False with the reason; fixing it is seen within seconds', async () => {
  await runOperator(NO_RESYNC);
  const pair = selfSigned(['turn.example.com']);
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { metadata: { name: 'my-tls' }, type: 'Opaque', data: tlsSecretData(pair) },
  });
  await applyRelay(
    rest,
    ns,
    relayObject('tls', {
      realm: 'turn.example.com',
      listeners: [{ name: 'tls', protocol: 'TLS', port: 5349 }],
      tls: { secretName: 'my-tls', dnsNames: ['turn.example.com'] },
    }),
  );
  const wrong = await waitForCondition(rest, ns, 'tls', 'CertificateReady', 'False', 'SecretWrongType');
  expect(condition(wrong, 'CertificateReady')?.message).toMatch(
    /^spec\.tls\.secretName: Secret my-tls has type Opaque/,
  );
  expect(condition(wrong, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretWrongType' });

  // The type is immutable: replace the Secret, with a key that does not match, then with the right one.
  await rest.request('DELETE', path('secrets', 'my-tls'));
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: {
      metadata: { name: 'my-tls' },
      type: 'kubernetes.io/tls',
      data: { ...tlsSecretData(pair), 'tls.key': tlsSecretData(selfSigned(['x.example.com']))['tls.key']! },
    },
  });
  await waitForCondition(rest, ns, 'tls', 'CertificateReady', 'False', 'KeyMismatch', 10_000);
  await rest.request('PATCH', path('secrets', 'my-tls'), {
    contentType: CONTENT.merge,
    body: { data: tlsSecretData(pair) },
  });
  const fixed = await waitForCondition(rest, ns, 'tls', 'CertificateReady', 'True', 'SecretFound', 10_000);
  expect(condition(fixed, 'CertificateReady')?.message).toMatch(/valid until \d{4}-/);
  expect(condition(fixed, 'Degraded')?.status).toBe('False');
}, 90_000);

test("a user's auth Secret without usable content is Degraded naming the field; the fix is seen within seconds", async () => {
  await runOperator(NO_RESYNC);
  await rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
    body: { metadata: { name: 'user-auth' }, stringData: { other: 'x' } },
  });
  await applyRelay(rest, ns, relayObject('ua', { ...UDP, auth: { secretRef: { name: 'user-auth' } } }));
  const bad = await waitForCondition(rest, ns, 'ua', 'Degraded', 'True', 'AuthSecretInvalid');
  expect(condition(bad, 'Degraded')?.message).toBe('spec.auth.secretRef.name: Secret user-auth has no "secrets" key');
  await rest.request('PATCH', path('secrets', 'user-auth'), {
    contentType: CONTENT.merge,
    body: { stringData: { secrets: 'a-long-shared-secret\n' } },
  });
  await waitForCondition(rest, ns, 'ua', 'Degraded', 'False', 'AsExpected', 10_000);
}, 60_000);

test('a child pruned under a forged owner is recreated for its real owner at once', async () => {
  await runOperator(NO_RESYNC);
  await applyRelay(rest, ns, relayObject('real', UDP));
  await applyRelay(rest, ns, relayObject('thief', UDP));
  const cm = await waitFor('real-config', () => rest.find<KubernetesObject>(path('configmaps', 'real-config')));
  const thief = await waitFor('thief', () => getRelay(rest, ns, 'thief'));
  await waitFor('thief children', async () => (await liveChildren(rest, ns, 'thief')).length === 6);
  // Hand real's ConfigMap to thief: thief's reconcile prunes it as an unwanted child of its own.
  await rest.request('PATCH', path('configmaps', 'real-config'), {
    contentType: CONTENT.merge,
    body: {
      metadata: {
        labels: { 'turnrelay.dev/relay': 'thief' },
        ownerReferences: [
          {
            apiVersion: 'turnrelay.dev/v1alpha1',
            kind: 'TurnRelay',
            name: 'thief',
            uid: thief.metadata!.uid,
            controller: true,
          },
        ],
      },
    },
  });
  const back = await waitFor(
    'real-config recreated for real',
    async () => {
      const now = await rest.find<KubernetesObject>(path('configmaps', 'real-config'));
      return now && now.metadata?.uid !== cm.metadata?.uid && now.metadata?.ownerReferences?.[0]?.name === 'real'
        ? now
        : undefined;
    },
    10_000,
  );
  expect(back.metadata?.labels?.['turnrelay.dev/relay']).toBe('real');
}, 60_000);

test('30 forced drift fights make one Event with count 30', async () => {
  await runOperator(NO_RESYNC);
  await applyRelay(rest, ns, relayObject('fight', UDP));
  const original = await waitFor('fight-config', () =>
    rest.find<{ data?: Record<string, string> }>(path('configmaps', 'fight-config')),
  );
  for (let i = 0; i < 30; i++) {
    await rest.request('PATCH', path('configmaps', 'fight-config'), {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'fight-config', namespace: ns },
        data: { 'config.yaml': `rival ${i}\n` },
      },
      contentType: CONTENT.apply,
      query: { fieldManager: 'rival', force: true },
    });
    await waitFor(
      `fight ${i} restored`,
      async () =>
        (await rest.get<{ data?: Record<string, string> }>(path('configmaps', 'fight-config'))).data?.[
          'config.yaml'
        ] === original.data?.['config.yaml'],
      10_000,
      50,
    );
  }
  const series = await waitFor(
    'one DriftCorrected event with count 30',
    async () => {
      const e = await events('fight', 'DriftCorrected');
      return e.length === 1 && e[0]!.count === 30 ? e : undefined;
    },
    10_000,
  );
  expect(series[0]!.message).toBe('ConfigMap fight-config was changed by another field manager; restored');
}, 90_000);

test("a refused child names the TurnRelay's field, not the child's", async () => {
  await runOperator();
  await applyRelay(rest, ns, relayObject('badsel', { ...UDP, nodeSelector: { 'not a label key!': 'x' } }));
  const r = await waitForCondition(rest, ns, 'badsel', 'Ready', 'False', 'ReconcileError');
  const message = condition(r, 'Ready')?.message ?? '';
  expect(message).toContain('spec.nodeSelector');
  expect(message).not.toContain('spec.template.spec.nodeSelector');
}, 60_000);

test('rotationInterval 720h leaves the operator at 0 API requests at rest', async () => {
  await runOperator(NO_RESYNC);
  await applyRelay(rest, ns, relayObject('monthly', { ...UDP, auth: { rotationInterval: '720h' } }));
  await waitFor(
    'monthly reconciled',
    async () => (await getRelay(rest, ns, 'monthly'))?.status?.['authSecretName'] === 'monthly-turn-auth',
  );
  await waitFor('children', async () => (await liveChildren(rest, ns, 'monthly')).length === 6);
  await sleep(2_000); // let the last watch events settle
  const requests = countRequests();
  try {
    await sleep(5_000);
    expect(requests.byAgent('turnrelay-operator/')).toEqual([]);
  } finally {
    requests.stop();
  }
}, 60_000);
