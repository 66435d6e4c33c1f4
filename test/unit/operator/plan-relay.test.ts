// planRelay decides everything a reconcile does from gathered inputs alone:
// what used to need an API server to observe (reads of child names, name
// conflicts, Secret writes, prunes, status) is checked here on plain objects.
import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { childKey, type RelayInputs } from '../../../operator/reconcile/gather.js';
import { CONFLICT_RETRY_MS, planRelay, statusAfterApply, type RelayPlan } from '../../../operator/reconcile/plan.js';
import { planAuthSecret } from '../../../operator/render/auth-secret.js';
import { ownerReference } from '../../../operator/render/names.js';
import { CHILD_KINDS, childKindOf } from '../../../operator/runtime/resources.js';
import type { TurnRelay } from '../../../operator/api/turnrelay.js';
import { asRelay, loadSample, sampleRelay } from './support/samples.js';
import { selfSigned, tlsSecretData } from './support/tls.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const observed = {
  serviceIngress: ['203.0.113.7'],
  serviceClusterIPs: [],
  nodeAddresses: [],
  nodeAddressMap: [],
  allowedServiceIPs: [],
  certManager: false,
  prometheusOperator: false,
};

function inputs(relay: TurnRelay, over: Partial<RelayInputs> = {}): RelayInputs {
  return {
    raw: {
      apiVersion: relay.apiVersion,
      kind: relay.kind,
      metadata: { ...relay.metadata, generation: 1 },
      spec: relay.spec,
    },
    relay,
    image: 'registry.example/turnrelay:1',
    now: NOW,
    freshSecret: 'fresh-secret-value',
    observed,
    live: new Map(),
    read: new Set(),
    labelled: [],
    ...over,
  };
}

/** Plans once, reads what the plan asks for as absent (or from `cluster`), and plans again: what reconcileRelay does. */
function planWith(base: RelayInputs, cluster: KubernetesObject[] = []): Extract<RelayPlan, { kind: 'act' }> {
  const first = planRelay(base);
  if (first.kind === 'act') return first;
  const live = new Map(base.live);
  const read = new Set(base.read);
  for (const u of first.unread) {
    const key = childKey(u.kind, u.name);
    const found = cluster.find((o) => o.kind === u.kind.kind && o.metadata?.name === u.name);
    if (found) live.set(key, found);
    read.add(key);
  }
  const second = planRelay({ ...base, live, read });
  if (second.kind !== 'act') throw new Error('second plan still wants reads');
  return second;
}

const cond = (plan: Extract<RelayPlan, { kind: 'act' }>, type: string) =>
  plan.status.status.conditions?.find((c) => c.type === type);

describe('planRelay', () => {
  const relay = sampleRelay('udp-only.yaml');

  test('a new relay first asks to read every child name the caches do not show', () => {
    const plan = planRelay(inputs(relay));
    expect(plan.kind).toBe('read');
    const unread = plan.kind === 'read' ? plan.unread.map((u) => `${u.kind.kind}/${u.name}`) : [];
    expect(unread).toEqual(
      expect.arrayContaining([
        `ServiceAccount/${relay.metadata.name}`,
        `ConfigMap/${relay.metadata.name}-config`,
        `Service/${relay.metadata.name}`,
        `Deployment/${relay.metadata.name}`,
      ]),
    );
  });

  test('with nothing there: create the auth Secret, apply every child as missing, prune nothing, report Reconciling', () => {
    const plan = planWith(inputs(relay));
    expect(plan.secretWrite).toMatchObject({ create: true, event: { reason: 'AuthSecretCreated' } });
    expect(plan.secretWrite!.secret.metadata!.ownerReferences![0]!.uid).toBe(relay.metadata.uid);
    expect(plan.applies.length).toBeGreaterThanOrEqual(5);
    expect(new Set(plan.applies.map((a) => a.reason))).toEqual(new Set(['missing']));
    expect(plan.prunes).toEqual([]);
    expect(plan.events).toEqual([]);
    expect(cond(plan, 'Reconciling')?.status).toBe('True');
    expect(plan.status.patch).toBeDefined();
    expect(plan.requeueAfterMs).toBe(24 * HOUR);
  });

  test("someone else's objects with child names: nothing is applied or pruned, NameConflict everywhere, retried later", () => {
    const name = relay.metadata.name!;
    const userService = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'media' } };
    const otherRelays = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${name}-config`,
        namespace: 'media',
        ownerReferences: [
          { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', name: 'b', uid: 'other-uid', controller: true },
        ],
      },
    };
    const owned = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: {
        name: 'stale',
        namespace: 'media',
        labels: { 'turnrelay.dev/relay': name },
        ownerReferences: [ownerReference(relay)],
      },
    };
    const plan = planWith(
      inputs(relay, { labelled: [{ kind: childKindOf('policy/v1', 'PodDisruptionBudget')!, obj: owned }] }),
      [userService, otherRelays],
    );
    expect(plan.applies).toEqual([]);
    expect(plan.prunes).toEqual([]);
    expect(plan.events).toEqual([
      {
        type: 'Warning',
        reason: 'NameConflict',
        message: expect.stringMatching(/ConfigMap \S+-config \(TurnRelay b\).*Service \S+ \(no controller\)/),
      },
    ]);
    expect(cond(plan, 'Ready')).toMatchObject({ status: 'False', reason: 'NameConflict' });
    expect(cond(plan, 'Stalled')).toMatchObject({ status: 'True', reason: 'NameConflict' });
    expect(plan.requeueAfterMs).toBe(CONFLICT_RETRY_MS);
  });

  test('children this relay owns but no longer renders are pruned; look-alikes owned by others are not', () => {
    const name = relay.metadata.name!;
    const hpa = CHILD_KINDS.find((k) => k.kind === 'HorizontalPodAutoscaler')!;
    const mine = {
      metadata: {
        name,
        namespace: 'media',
        labels: { 'turnrelay.dev/relay': name },
        ownerReferences: [ownerReference(relay)],
      },
    };
    const forged = { metadata: { name: 'x', namespace: 'media', labels: { 'turnrelay.dev/relay': name } } };
    const plan = planWith(
      inputs(relay, {
        labelled: [
          { kind: hpa, obj: mine },
          { kind: hpa, obj: forged },
        ],
      }),
    );
    expect(plan.prunes).toEqual([{ kind: hpa, name, namespace: 'media' }]);
  });

  test("another relay's auth Secret is only read, and the status says whose it is", () => {
    const owner = asRelay(
      { ...loadSample('udp-only.yaml').manifest, metadata: { name: 'owner' } },
      'media',
      'owner-uid',
    );
    const shared = planAuthSecret(undefined, owner, NOW - HOUR, () => 's1').secret!;
    const reader = asRelay({
      ...loadSample('udp-only.yaml').manifest,
      spec: {
        ...loadSample('udp-only.yaml').manifest['spec'],
        auth: { secretRef: { name: 'owner-turn-auth' }, rotationInterval: '1m' },
      },
    });
    const plan = planWith(
      inputs(reader, { authSecret: { ...shared, metadata: { ...shared.metadata, resourceVersion: '5' } } }),
    );
    expect(plan.secretWrite).toBeUndefined();
    expect(cond(plan, 'Degraded')?.message).toBe(
      'Secret owner-turn-auth is created and rotated by TurnRelay owner; this relay only reads it',
    );
  });

  test('a due rotation is one PUT of the Secret read, with an Event', () => {
    const existing: V1Secret = {
      ...planAuthSecret(undefined, relay, NOW - 25 * HOUR, () => 'old').secret!,
      metadata: {
        ...planAuthSecret(undefined, relay, NOW - 25 * HOUR, () => 'old').secret!.metadata,
        resourceVersion: '7',
      },
    };
    const plan = planWith(inputs(relay, { authSecret: existing }));
    expect(plan.secretWrite).toMatchObject({ create: false, event: { reason: 'AuthSecretRotated' } });
    expect(plan.secretWrite!.secret.metadata!.resourceVersion).toBe('7');
    expect(Buffer.from(plan.secretWrite!.secret.data!['secrets']!, 'base64').toString()).toBe(
      'old\nfresh-secret-value\n',
    );
  });

  test('a TLS Secret of the wrong type or with a foreign key is CertificateReady=False naming the field', () => {
    const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
    manifest.spec.listeners = [{ protocol: 'TLS' }];
    manifest.spec.tls = { secretName: 'my-tls', dnsNames: ['turn.example.com'] };
    const tlsRelay = asRelay(manifest);
    const pair = selfSigned(['turn.example.com']);
    // The openssl certificate is valid from the real now on.
    const opaque = planWith(
      inputs(tlsRelay, {
        now: Date.now(),
        tlsSecret: { metadata: { name: 'my-tls' }, type: 'Opaque', data: tlsSecretData(pair) },
      }),
    );
    expect(cond(opaque, 'CertificateReady')).toMatchObject({
      status: 'False',
      reason: 'SecretWrongType',
      message: expect.stringMatching(/^spec\.tls\.secretName: /),
    });
    expect(cond(opaque, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretWrongType' });
    const good = planWith(
      inputs(tlsRelay, {
        now: Date.now(),
        tlsSecret: { metadata: { name: 'my-tls' }, type: 'kubernetes.io/tls', data: tlsSecretData(pair) },
      }),
    );
    expect(cond(good, 'CertificateReady')).toMatchObject({ status: 'True', reason: 'SecretFound' });
  });

  test('the status describes the workload the apply returned, not the one read before it', () => {
    const base = inputs(relay);
    const plan = planWith(base);
    expect(plan.workloadApply?.kind.kind).toBe('Deployment');
    expect(cond(plan, 'Ready')?.message).toBe('relay workload not created yet');
    const applied = {
      ...plan.workloadApply!.desired,
      metadata: { ...plan.workloadApply!.desired.metadata, generation: 1 },
      status: {},
    };
    const after = statusAfterApply(base, plan, applied);
    expect(after.status.conditions?.find((c) => c.type === 'Ready')?.message).toBe('0/1 relay pods ready');
    expect(after.status.conditions?.find((c) => c.type === 'Progressing')?.status).toBe('True');
  });

  test('the same inputs give the same plan, and an unchanged status is no patch', () => {
    const base = inputs(relay);
    const a = planWith(base);
    expect(planWith(base)).toEqual(a);
    const settled = planWith({ ...base, raw: { ...base.raw, status: a.status.status } });
    expect(settled.status.patch).toBeUndefined();
    expect(settled.status.events).toEqual([]);
  });
});
