// Informer and LatestView against the real API server: an informer whose
// list and watch are refused keeps restarting and syncs once it may, and the
// view overlays this process's own writes on a cache that has not caught up.
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { kubeConfigForServiceAccount } from './harness/cluster.js';
import { TEST_AGENT, kc, ns, rest, useNamespacePerTest, waitFor } from './operator-fixtures.js';
import { Informer, type InformerEvent } from '../../operator/runtime/informer.js';
import { KubeRest } from '../../operator/runtime/kube-rest.js';
import { LatestView } from '../../operator/runtime/latest-view.js';
import { CHILD_KINDS } from '../../operator/runtime/resources.js';

const CONFIGMAP_KIND = CHILD_KINDS.find((k) => k.kind === 'ConfigMap')!;
type ConfigMap = KubernetesObject & { data?: Record<string, string> };

const informers: Informer<ConfigMap>[] = [];
const clients: KubeRest[] = [];
useNamespacePerTest('informer', {
  tearDown: () => {
    for (const i of informers.splice(0)) i.stop();
    for (const c of clients.splice(0)) c.close();
  },
});

function configMapInformer(
  client: { kc: typeof kc; rest: KubeRest },
  onEvent: (e: InformerEvent, o: ConfigMap) => void = () => undefined,
  log = pino({ level: 'silent' }),
) {
  const informer = new Informer<ConfigMap>({
    ...client,
    resource: CONFIGMAP_KIND,
    namespace: ns,
    onEvent,
    log,
    restartBaseMs: 50,
    restartMaxMs: 200,
  });
  informers.push(informer);
  return informer;
}

const createConfigMap = (name: string, data: Record<string, string>) =>
  rest.request<ConfigMap>('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name }, data } });
const replaceConfigMap = (current: ConfigMap, data: Record<string, string>) =>
  rest.request<ConfigMap>('PUT', `/api/v1/namespaces/${ns}/configmaps/${current.metadata!.name}`, {
    body: { ...current, data },
  });
const rv = (o: ConfigMap | undefined) => Number(o?.metadata?.resourceVersion);

test('an informer refused by RBAC keeps restarting, then syncs and delivers events once it is allowed', async () => {
  await rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'reader' } } });
  const saKc = await kubeConfigForServiceAccount(ns, 'reader', { admin: kc });
  const saRest = await KubeRest.fromKubeConfig(saKc, TEST_AGENT);
  clients.push(saRest);
  await createConfigMap('before', { at: 'start' });

  const restarts: string[] = [];
  const log = pino(
    { level: 'warn' },
    { write: (line: string) => void restarts.push((JSON.parse(line) as { msg: string }).msg) },
  );
  const events: string[] = [];
  const informer = configMapInformer(
    { kc: saKc, rest: saRest },
    (e, o) => events.push(`${e} ${o.metadata?.name}`),
    log,
  );
  let synced = false;
  void informer.start().then(() => (synced = true));

  await waitFor(
    'three restarts',
    () => restarts.filter((m) => m === 'watch failed; restarting').length >= 3,
    30_000,
    50,
  );
  expect({ synced, flag: informer.synced, events }).toEqual({ synced: false, flag: false, events: [] });

  await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
    body: {
      metadata: { name: 'read-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
    },
  });
  await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    body: {
      metadata: { name: 'read-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    },
  });
  await waitFor('first sync', () => synced, 30_000, 50);
  expect(informer.synced).toBe(true);
  expect(informer.get('before', ns)?.data).toEqual({ at: 'start' });

  await createConfigMap('after', { at: 'watch' }); // arrives through the restarted watch
  await waitFor('watch event', () => events.includes('add after'), 30_000, 50);
  expect(informer.get('after', ns)?.data).toEqual({ at: 'watch' });
});

test('LatestView: our newer write wins over a stale cache until forgotten; a cache that has caught up wins and drops the overlay', async () => {
  const first = await createConfigMap('cm', { v: '1' });
  const informer = configMapInformer({ kc, rest });
  await informer.start();
  await waitFor('cache has cm', () => rv(informer.get('cm', ns)) === rv(first), 30_000, 50);
  const view = new LatestView(informer);
  expect(view.get('cm', ns)).toBe(informer.get('cm', ns));

  // A frozen cache stands for watch events that have not arrived yet.
  informer.stop();
  const second = await replaceConfigMap(first, { v: '2' });
  expect(informer.get('cm', ns)?.data).toEqual({ v: '1' });
  view.remember(second);
  expect(view.get('cm', ns)?.data).toEqual({ v: '2' });
  expect(view.list(ns).map((o) => o.data)).toEqual([{ v: '1' }]); // lists are the informer's
  view.forget('cm', ns);
  expect(view.get('cm', ns)?.data).toEqual({ v: '1' });

  // An overlay older than the cache is dropped on read.
  view.remember({
    ...first,
    metadata: { ...first.metadata, resourceVersion: String(rv(first) - 1) },
    data: { v: 'older' },
  });
  expect(view.get('cm', ns)?.data).toEqual({ v: '1' });

  // A live cache that catches up with our write replaces the overlay for good.
  const live = configMapInformer({ kc, rest });
  await live.start();
  const liveView = new LatestView(live);
  const third = await replaceConfigMap(second, { v: '3' });
  liveView.remember(third);
  expect(liveView.get('cm', ns)?.data).toEqual({ v: '3' });
  await waitFor('cache catches up', () => rv(live.get('cm', ns)) >= rv(third), 30_000, 50);
  expect(liveView.get('cm', ns)).toBe(live.get('cm', ns));
  liveView.remember({ ...third, data: { v: 'stale-copy' } }); // same version as the cache: the cache wins
  expect(liveView.get('cm', ns)).toBe(live.get('cm', ns));
});
