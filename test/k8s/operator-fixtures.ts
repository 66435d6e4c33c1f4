// Shared helpers for the operator's integration tests against the real
// control plane. The operator runs in-process (startOperator) with short
// resync/backoff settings and watches only the test's namespace, so test
// files can run in parallel on one cluster.
import { readFile } from 'node:fs/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { createLogger } from '../../shared/log.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from './harness/cluster.js';
import { startOperator, type OperatorHandle, type OperatorOptions } from '../../operator/main.js';
import { CONTENT, KubeApiError, KubeRest, isNotFound } from '../../operator/runtime/kube-rest.js';
import {
  CHILD_KINDS,
  TURNRELAY_KIND,
  collectionPath,
  objectPath,
  type ResourceKind,
} from '../../operator/runtime/resources.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TEST_AGENT = 'turnrelay-operator-test';

export async function adminRest(kc: KubeConfig): Promise<KubeRest> {
  return KubeRest.fromKubeConfig(kc, TEST_AGENT);
}

/** Polls until `probe` returns something truthy (0 and '' count as not yet). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Installs the committed TurnRelay CRD unless it exists, and waits until it is
 * served. Create-only: other test files apply the same CRD with their own
 * field managers, and a forced apply here would make theirs conflict.
 */
export async function installTurnRelayCrd(rest: KubeRest): Promise<void> {
  const crd = parse(await readFile(join(ROOT, 'crds', 'turnrelay.dev_turnrelays.yaml'), 'utf8')) as KubernetesObject;
  try {
    await rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.code === 409)) throw err;
  }
  await waitFor('TurnRelay CRD served', async () => {
    const res = await rest.find<{ resources?: Array<{ name: string }> }>('/apis/turnrelay.dev/v1alpha1');
    return res?.resources?.some((r) => r.name === 'turnrelays');
  });
}

export async function readSample(name: string): Promise<KubernetesObject & { spec: Record<string, unknown> }> {
  const docs = parseAllDocuments(await readFile(join(ROOT, 'operator', 'samples', `${name}.yaml`), 'utf8'));
  return docs[0]!.toJS() as KubernetesObject & { spec: Record<string, unknown> };
}

/** Applies a TurnRelay as a user would (`kubectl apply --server-side`). */
export async function applyRelay(
  rest: KubeRest,
  namespace: string,
  relay: KubernetesObject,
): Promise<KubernetesObject> {
  const body = { ...relay, metadata: { ...relay.metadata, namespace } };
  return rest.request('PATCH', objectPath(TURNRELAY_KIND, namespace, relay.metadata!.name!), {
    body,
    contentType: CONTENT.apply,
    query: { fieldManager: 'kubectl', force: true },
  });
}

type Relay = KubernetesObject & {
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    [k: string]: unknown;
  };
};

export async function getRelay(rest: KubeRest, namespace: string, name: string): Promise<Relay | undefined> {
  return rest.find<Relay>(objectPath(TURNRELAY_KIND, namespace, name));
}

export function condition(relay: Relay | undefined, type: string) {
  return relay?.status?.conditions?.find((c) => c.type === type);
}

export async function waitForCondition(
  rest: KubeRest,
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 60_000,
): Promise<Relay> {
  return waitFor(
    `${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const r = await getRelay(rest, namespace, name);
      const c = condition(r, type);
      return c?.status === status && (!reason || c.reason === reason) ? r : undefined;
    },
    timeoutMs,
  );
}

export interface LiveChild {
  kind: string;
  name: string;
  obj: KubernetesObject;
}

/** Every object in `namespace` labelled for `relay`, across the kinds the operator manages. */
export async function liveChildren(
  rest: KubeRest,
  namespace: string,
  relay: string,
  kinds: readonly ResourceKind[] = CHILD_KINDS,
): Promise<LiveChild[]> {
  const out: LiveChild[] = [];
  for (const kind of kinds) {
    try {
      const list = await rest.list<KubernetesObject>(collectionPath(kind, namespace), {
        labelSelector: `turnrelay.dev/relay=${relay}`,
      });
      for (const obj of list.items) out.push({ kind: kind.kind, name: obj.metadata!.name!, obj });
    } catch (err) {
      if (!isNotFound(err)) throw err; // e.g. cert-manager CRD not installed
    }
  }
  return out.sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
}

export const childIds = (children: LiveChild[]) => children.map((c) => `${c.kind}/${c.name}`);

export async function startTestOperator(
  kc: KubeConfig,
  namespace: string,
  extra: Partial<OperatorOptions> = {},
): Promise<OperatorHandle> {
  return startOperator({
    kubeConfig: kc,
    namespace,
    image: 'registry.example/turnrelay:test',
    resyncMs: 1_000,
    informerRestartBaseMs: 200,
    queue: { baseBackoffMs: 50, maxBackoffMs: 2_000, qps: 50, burst: 100 },
    log: createLogger('operator-test', process.env.TURNRELAY_TEST_OPERATOR_LOG ?? 'silent'),
    ...extra,
  });
}

/**
 * Counts write requests (anything but GET) that an operator instance sends,
 * observed at Node's HTTP client (diagnostics channel), independently of the
 * operator's own metrics. Instances are told apart by their User-Agent.
 */
export function countWrites(): { byAgent(prefix: string): string[]; stop(): void } {
  return countRequests({ writesOnly: true });
}

/** The same for every request, reads included (what "0 API requests at rest" counts). */
export function countRequests({ writesOnly = false } = {}): { byAgent(prefix: string): string[]; stop(): void } {
  const seen: Array<{ agent: string; line: string }> = [];
  const onStart = (msg: unknown) => {
    const req = (msg as { request: ClientRequest }).request;
    if (writesOnly && req.method === 'GET') return;
    seen.push({ agent: String(req.getHeader('user-agent') ?? ''), line: `${req.method} ${req.path}` });
  };
  subscribe('http.client.request.start', onStart);
  return {
    byAgent: (prefix) => seen.filter((s) => s.agent.startsWith(prefix)).map((s) => s.line),
    stop: () => unsubscribe('http.client.request.start', onStart),
  };
}

/**
 * There is no scheduler or kubelet in the test cluster: the ReplicaSet
 * controller creates the relay pods, but nothing runs them. Mark them Running
 * and Ready through the pod status subresource, as a kubelet would, so the
 * real ReplicaSet and Deployment controllers compute readyReplicas.
 */
export async function markRelayPodsReady(
  rest: KubeRest,
  namespace: string,
  relay: string,
  expected: number,
): Promise<void> {
  await waitFor(`${expected} pods of ${relay}`, async () => {
    const pods = await rest.list<
      KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
    >(collectionPath({ apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }, namespace), {
      labelSelector: `app.kubernetes.io/instance=${relay}`,
    });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    if (live.length < expected) return undefined;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const pod of live) {
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      await rest.request('PATCH', `/api/v1/namespaces/${namespace}/pods/${pod.metadata!.name}/status`, {
        contentType: CONTENT.merge,
        body: {
          status: {
            phase: 'Running',
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'True', lastTransitionTime: now },
            ],
          },
        },
      });
    }
    return true;
  });
}

/** No cloud controller either: publish a load-balancer address on the Service as one would. */
export async function setLoadBalancerIngress(
  rest: KubeRest,
  namespace: string,
  service: string,
  ip: string,
): Promise<void> {
  await waitFor(`Service ${service}`, () => rest.find(`/api/v1/namespaces/${namespace}/services/${service}`));
  await rest.request('PATCH', `/api/v1/namespaces/${namespace}/services/${service}/status`, {
    contentType: CONTENT.merge,
    body: { status: { loadBalancer: { ingress: [{ ip }] } } },
  });
}

export async function authSecretLines(rest: KubeRest, namespace: string, name: string): Promise<string[] | undefined> {
  const s = await rest.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
  const enc = s?.data?.['secrets'];
  return enc === undefined ? undefined : Buffer.from(enc, 'base64').toString('utf8').split('\n').filter(Boolean);
}

export type RelayObject = KubernetesObject & { spec: Record<string, unknown> };

/**
 * A CRD that serves its kind with any spec and status (no schema): so only
 * the operator can refuse a TurnRelay, or a stand-in for a CRD such as
 * cert-manager's Certificate where only its presence matters.
 */
export function schemalessCrd(group: string, kind: string, plural: string): KubernetesObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: group === 'turnrelay.dev' ? 'v1alpha1' : 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  } as KubernetesObject;
}

export function relayObject(name: string, spec: Record<string, unknown>): RelayObject {
  return { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', metadata: { name }, spec };
}

type SuiteHooks = { setUp?: () => Promise<void>; tearDown?: () => Promise<void> | void };

/**
 * The usual suite shape: an admin client and the CRD once per file, a fresh
 * namespace per test. `kc`, `rest` and `ns` are live bindings, valid inside
 * tests; `setUp` runs after the namespace exists, `tearDown` before it goes.
 */
export let kc: KubeConfig;
export let rest: KubeRest;
export let ns: string;
export function useNamespacePerTest(prefix: string, hooks: SuiteHooks = {}): void {
  useSuite(prefix, beforeEach, afterEach, hooks);
}

/**
 * useNamespacePerTest for tests that start operators: the returned function
 * starts one on the test's namespace, and whatever it started is stopped
 * before the namespace goes (stopping twice is harmless).
 */
export function useOperatorsPerTest(prefix: string): (extra?: Partial<OperatorOptions>) => Promise<OperatorHandle> {
  const running: OperatorHandle[] = [];
  useNamespacePerTest(prefix, {
    tearDown: async () => {
      for (const o of running.splice(0)) await o.stop();
    },
  });
  return async (extra = {}) => {
    const op = await startTestOperator(kc, ns, extra);
    running.push(op);
    return op;
  };
}

/** The same as useNamespacePerTest, but one namespace for the whole file. */
export function useNamespacePerFile(prefix: string, hooks: SuiteHooks = {}): void {
  useSuite(prefix, beforeAll, afterAll, hooks);
}

function useSuite(prefix: string, before: typeof beforeAll, after: typeof afterAll, hooks: SuiteHooks): void {
  beforeAll(async () => {
    kc = testKubeConfig();
    rest = await adminRest(kc);
    await installTurnRelayCrd(rest);
  });
  before(async () => {
    ns = await createTestNamespace(prefix, kc);
    await hooks.setUp?.();
  });
  // Declared before the client's close: jest runs after-hooks in declaration order.
  after(async () => {
    await hooks.tearDown?.();
    await deleteTestNamespace(ns, kc);
  });
  afterAll(() => rest.close());
}
