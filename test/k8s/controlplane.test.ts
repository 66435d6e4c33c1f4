// The test control plane behaves like a real cluster where the operator
// depends on it (CRDs, server-side apply, /status, watches, garbage
// collection, TokenRequest + RBAC), and failing starts say why.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  Watch,
  setHeaderOptions,
  KubeConfig,
  type V1CustomResourceDefinition,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { buildControlPlane, BUILD_SCRIPT } from './harness/binaries.js';
import { createTestNamespace, kubeConfigForServiceAccount, testKubeConfig } from './harness/cluster.js';
import { ComponentProcess } from './harness/component-process.js';
import { startControlPlane } from './harness/control-plane.js';
import { freePorts, PortInUseError } from './harness/ports.js';
import { waitUntil } from './harness/probes.js';

const GROUP = 'controlplane-test.turnrelay.dev';
const VERSION = 'v1';
const PLURAL = 'probes';
const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const probeCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: 'Probe', plural: PLURAL, singular: 'probe', listKind: 'ProbeList' },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string' } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

async function installProbeCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  // Server-side apply: idempotent when several test files install it.
  await api.patchCustomResourceDefinition(
    { name: probeCrd.metadata!.name!, body: probeCrd, fieldManager: 'controlplane-test', force: true },
    apply,
  );
  await poll('the Probe CRD to be Established', 30_000, async () => {
    const crd = await api.readCustomResourceDefinition({ name: probeCrd.metadata!.name! });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
}

describe('the shared test control plane', () => {
  let kc: KubeConfig;
  let namespace: string;
  let objects: CustomObjectsApi;

  beforeAll(async () => {
    kc = testKubeConfig();
    objects = kc.makeApiClient(CustomObjectsApi);
    await installProbeCrd(kc);
  });

  beforeEach(async () => {
    namespace = await createTestNamespace('controlplane');
  });

  /** The test's own custom resource, as the API server returns it. */
  type Probe = { metadata: V1ObjectMeta; spec?: Record<string, unknown>; status?: { phase?: string } };
  const applyProbe = async (manager: string, spec: Record<string, unknown>, force = false): Promise<Probe> =>
    (await objects.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name: 'p1',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Probe', metadata: { name: 'p1' }, spec },
        fieldManager: manager,
        force,
      },
      apply,
    )) as Probe;

  test('validates custom resources against the CRD schema', async () => {
    const code = await status(applyProbe('alice', { size: 0 }));
    expect(code).toBe(422);
  });

  test('server-side apply tracks two field managers and reports their conflict', async () => {
    await applyProbe('alice', { size: 1 });
    await applyProbe('bob', { color: 'blue' }); // a disjoint field: no conflict

    const conflict = await applyProbe('bob', { color: 'blue', size: 2 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(conflict).toBeInstanceOf(ApiException);
    expect((conflict as ApiException<string>).code).toBe(409);
    const { details } = JSON.parse((conflict as ApiException<string>).body) as { details: { causes: unknown } };
    expect(details.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.size' },
    ]);

    const forced = await applyProbe('bob', { color: 'blue', size: 2 }, true);
    expect(forced.spec).toEqual({ size: 2, color: 'blue' });
    const managers = (forced.metadata.managedFields as { manager: string; fieldsV1: { 'f:spec'?: object } }[])
      .filter((entry) => entry.fieldsV1['f:spec'])
      .map((entry) => [
        entry.manager,
        Object.keys(entry.fieldsV1['f:spec']!)
          .filter((key) => key !== '.')
          .sort(),
      ]);
    expect(managers).toEqual([['bob', ['f:color', 'f:size']]]); // alice lost her only field
  });

  test('/status is a separate subresource and watches deliver its changes', async () => {
    const created = await applyProbe('alice', { size: 1 });
    const events: { type: string; status?: { phase?: string } }[] = [];
    const watch = await new Watch(kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      { resourceVersion: created.metadata.resourceVersion },
      (type, object: Probe) => events.push({ type, status: object.status }),
      () => undefined,
    );
    try {
      // Status in a main-resource write is ignored; through /status it sticks.
      await objects.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name: 'p1',
          body: { status: { phase: 'Ignored' } },
        },
        mergePatch,
      );
      const patched = (await objects.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'p1', body: { status: { phase: 'Ready' } } },
        mergePatch,
      )) as Probe;
      expect(patched.status).toEqual({ phase: 'Ready' });
      expect(patched.spec).toEqual({ size: 1 });
      expect(patched.metadata.generation).toBe(created.metadata.generation); // status writes don't bump it

      await poll('a MODIFIED watch event carrying the new status', 10_000, () =>
        events.find((e) => e.type === 'MODIFIED' && e.status?.phase === 'Ready'),
      );
      expect(events.some((e) => e.status?.phase === 'Ignored')).toBe(false);
    } finally {
      watch.abort();
    }
  });

  test('deleting an owner garbage-collects its owner-referenced ConfigMap', async () => {
    const owner = await applyProbe('alice', { size: 1 });
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'Probe', name: 'p1', uid: owner.metadata.uid! }],
        },
        data: { a: 'b' },
      },
    });
    await objects.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name: 'p1',
    });
    // The garbage collector rediscovers resources every 30 s, so a CRD that
    // is new to it can take that long before it acts.
    await poll('the owned ConfigMap to be garbage-collected', 90_000, async () =>
      (await status(core.readNamespacedConfigMap({ namespace, name: 'owned' }))) === 404 ? true : undefined,
    );
  }, 120_000);

  test('a ServiceAccount kubeconfig is authorized by RBAC, not as admin', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });

    const reader = (await kubeConfigForServiceAccount(namespace, 'reader')).makeApiClient(CoreV1Api);
    expect(await status(reader.listNamespacedConfigMap({ namespace }))).toBe(200);
    expect(await status(reader.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await status(reader.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x' } } }))).toBe(403);
    await expect(kubeConfigForServiceAccount(namespace, 'nobody')).rejects.toThrow(
      /ServiceAccount .*\/nobody does not exist/,
    );
  });

  test('Deployments get ReplicaSets from the controller manager (pods never run)', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'web' };
    const deployment = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] } },
        },
      },
    });
    const replicaSet = await poll('a ReplicaSet owned by the Deployment', 30_000, async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items.find((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.uid === deployment.metadata?.uid));
    });
    expect(replicaSet.spec?.replicas).toBe(1);
  });
});

describe('a control plane of its own', () => {
  test('restartApiServer keeps the endpoint, CA and data; stop leaves no process or file behind', async () => {
    const parentDir = await mkdtemp(join(tmpdir(), 'turnrelay-controlplane-test-'));
    try {
      const cp = await startControlPlane({ parentDir });
      let stopped = false;
      try {
        const kc = new KubeConfig();
        kc.loadFromFile(cp.kubeconfigPath);
        const core = kc.makeApiClient(CoreV1Api);
        await core.createNamespacedConfigMap({
          namespace: 'default',
          body: { metadata: { name: 'kept' }, data: { k: 'v' } },
        });
        const apiServerPid = cp.pids().kubeApiServer;

        await cp.restartApiServer();

        expect(cp.pids().kubeApiServer).not.toBe(apiServerPid);
        // The same client (same URL, same trusted CA, same token) reads what was written before.
        expect((await core.readNamespacedConfigMap({ namespace: 'default', name: 'kept' })).data).toEqual({ k: 'v' });
        expect(cp.pids().etcd).toBeDefined();

        await cp.stop();
        stopped = true;
        expect(await readdir(parentDir)).toEqual([]);
        expect(await processesMentioning(parentDir)).toEqual([]);
        expect(
          await status(core.readNamespacedConfigMap({ namespace: 'default', name: 'kept' })).catch((e: unknown) =>
            e instanceof Error ? e.message : String(e),
          ),
        ).toMatch(/ECONNREFUSED|fetch failed/);
      } finally {
        if (!stopped) await cp.stop();
      }
    } finally {
      await rm(parentDir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('startControlPlane failures name their cause', () => {
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'turnrelay-controlplane-test-'));
  });

  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('a port in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startControlPlane({ ports: { apiServer: port }, parentDir: scratch })).rejects.toThrow(
        `port 127.0.0.1:${port} for kube-apiserver is already in use`,
      );
      expect(await readdir(scratch)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  test("a port taken after it was chosen: the component's own bind error is recognised", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const [peer] = await freePorts(1);
    try {
      const etcd = new ComponentProcess(
        'etcd',
        join(await buildControlPlane({ quiet: true }), 'etcd'),
        [
          `--data-dir=${join(scratch, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${taken}`,
          `--advertise-client-urls=http://127.0.0.1:${taken}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=default=http://127.0.0.1:${peer}`,
        ],
        join(scratch, 'etcd.log'),
      );
      const error = await waitUntil('etcd /health', etcd, () => Promise.resolve(false), 30_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      await etcd.stop();
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toMatch(
        /etcd exited with code \d+ before etcd \/health because a port it needs is already in use/,
      );
      expect((error as Error).message).toContain(`127.0.0.1:${taken}`);
    } finally {
      blocker.close();
    }
  });

  test('a missing binary', async () => {
    const binDir = join(scratch, 'bin');
    await mkdir(binDir);
    await writeFile(join(binDir, 'etcd'), '#!/bin/sh\n', { mode: 0o755 });
    const error = await startControlPlane({ binDir }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/binary not found.*kube-apiserver/);
    expect(error?.message).toContain(join(binDir, 'kube-controller-manager'));
    expect(error?.message).not.toContain(join(binDir, 'etcd'));
  });

  test('a component that exits during start, and nothing is left behind', async () => {
    const parentDir = join(scratch, 'clusters');
    await mkdir(parentDir);
    const error = await startControlPlane({ controllers: ['no-such-controller'], parentDir }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/kube-controller-manager exited with code \d+ before/);
    expect(error?.message).toContain('no-such-controller');
    expect(await readdir(parentDir)).toEqual([]); // temp dir removed
    expect(await processesMentioning(parentDir)).toEqual([]); // etcd and kube-apiserver stopped
  }, 180_000);

  test('a Go build error', async () => {
    // A module whose kube-apiserver does not compile, built by the real build.sh.
    const module = join(scratch, 'module');
    for (const cmd of [
      'kube-apiserver',
      'kube-controller-manager',
      'kubectl',
      'kube-scheduler',
      'kubelet',
      'kube-proxy',
    ]) {
      await mkdir(join(module, 'kubernetes', 'cmd', cmd), { recursive: true });
      await writeFile(
        join(module, 'kubernetes', 'cmd', cmd, 'main.go'),
        'package main\n\nfunc main() { notDefined() }\n',
      );
    }
    await writeFile(join(module, 'kubernetes', 'go.mod'), 'module k8s.io/kubernetes\n\ngo 1.26.0\n');
    await writeFile(
      join(module, 'go.mod'),
      'module broken.test/controlplane\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v1.37.2\n\nreplace k8s.io/kubernetes => ./kubernetes\n',
    );
    await writeFile(join(module, 'go.sum'), '');
    const env = { TURNRELAY_CONTROLPLANE_MODULE: module, TURNRELAY_CONTROLPLANE_CACHE: join(scratch, 'cache') };
    const error = await buildControlPlane({ env, quiet: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`control plane build failed (${BUILD_SCRIPT} exited with 1)`);
    expect(error?.message).toMatch(/go build of kube-apiserver.* failed/);
    expect(error?.message).toMatch(/undefined: notDefined/);
  }, 120_000);
});

/** Command lines of live processes that mention `text` (e.g. a data dir). */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}
