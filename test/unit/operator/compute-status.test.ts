import { computeStatus, transitionEvents, type StatusInput } from '../../../operator/status/compute-status.js';
import { statusMergePatch } from '../../../operator/status/status-patch.js';
import { workloadState } from '../../../operator/status/workload.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:05:00.000Z');

const deployment = (ready: number, desired = 2) =>
  workloadState({
    kind: 'Deployment',
    metadata: { generation: 3 },
    spec: {
      replicas: desired,
      selector: { matchLabels: { 'turnrelay.dev/relay': 'edge', 'app.kubernetes.io/name': 'turnrelay' } },
    },
    status: { observedGeneration: 3, replicas: desired, updatedReplicas: desired, readyReplicas: ready },
  });

const base = (over: Partial<StatusInput> = {}): StatusInput => ({
  relay: { metadata: { name: 'edge', generation: 3 } },
  now: T0,
  workload: deployment(2),
  iceServers: ['turn:203.0.113.7:3478?transport=udp'],
  endpoints: ['203.0.113.7'],
  authSecretName: 'edge-turn-auth',
  ...over,
});

const cond = (s: ReturnType<typeof computeStatus>, type: string) => s.conditions?.find((c) => c.type === type);

test('a healthy relay is Ready and not Progressing, with the scale selector and ICE servers', () => {
  const s = computeStatus(base());
  expect(cond(s, 'Ready')).toMatchObject({
    status: 'True',
    reason: 'RelayReady',
    lastTransitionTime: '2026-01-01T00:00:00Z',
    observedGeneration: 3,
  });
  expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
  expect(cond(s, 'Degraded')).toMatchObject({ status: 'False' });
  expect(cond(s, 'CertificateReady')).toBeUndefined();
  expect(s).toMatchObject({
    observedGeneration: 3,
    replicas: 2,
    readyReplicas: 2,
    selector: 'app.kubernetes.io/name=turnrelay,turnrelay.dev/relay=edge',
    authSecretName: 'edge-turn-auth',
    endpoints: '203.0.113.7',
  });
});

test('a rollout without ready pods is Progressing and not Ready', () => {
  const s = computeStatus(base({ workload: deployment(0) }));
  expect(cond(s, 'Ready')).toMatchObject({
    status: 'False',
    reason: 'WorkloadUnavailable',
    message: '0/2 relay pods ready',
  });
  expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
});

test('lastTransitionTime is kept while a condition keeps its status, and the patch is empty', () => {
  const first = computeStatus(base());
  const again = computeStatus(base({ now: T1, relay: { metadata: { name: 'edge', generation: 3 }, status: first } }));
  expect(cond(again, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  expect(statusMergePatch(first, again)).toBeUndefined();
  const down = computeStatus(
    base({ now: T1, workload: deployment(0), relay: { metadata: { name: 'edge', generation: 3 }, status: first } }),
  );
  expect(cond(down, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  expect(transitionEvents(first.conditions, down.conditions)).toEqual([
    { type: 'Warning', reason: 'WorkloadUnavailable', message: '0/2 relay pods ready' },
  ]);
  expect(transitionEvents(first.conditions, again.conditions)).toEqual([]);
});

test('a new relay waiting for pods records no event, but a new problem does', () => {
  const waiting = computeStatus(base({ workload: deployment(0) }));
  expect(transitionEvents(undefined, waiting.conditions)).toEqual([]);
  const broken = computeStatus(
    base({
      tls: {
        viaIssuer: true,
        certManagerInstalled: false,
        secretName: 'x',
        secretPresent: false,
        certificateExists: false,
      },
    }),
  );
  expect(transitionEvents(undefined, broken.conditions).map((e) => `${e.type}/${e.reason}`)).toEqual([
    'Warning/CertManagerMissing',
  ]);
  const invalid = computeStatus({
    relay: { metadata: { name: 'edge', generation: 1 } },
    now: T0,
    invalid: [{ field: 'metadata.name', message: 'too long' }],
  });
  expect(transitionEvents(undefined, invalid.conditions)).toEqual([
    { type: 'Warning', reason: 'InvalidSpec', message: 'metadata.name: too long' },
  ]);
});

test('an invalid spec names the field and keeps the last reported facts', () => {
  const first = computeStatus(base());
  const s = computeStatus({
    relay: { metadata: { name: 'edge', generation: 4 }, status: first },
    now: T1,
    invalid: [{ field: 'spec.listeners[2].port', message: 'duplicate port' }],
  });
  expect(cond(s, 'Ready')).toMatchObject({
    status: 'False',
    reason: 'InvalidSpec',
    message: 'spec.listeners[2].port: duplicate port',
  });
  expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
  expect(s).toMatchObject({ observedGeneration: 4, iceServers: first.iceServers, readyReplicas: 2 });
});

test('TLS via cert-manager: missing CRD is a clear, degraded condition; an issued certificate is ready', () => {
  const tls = {
    viaIssuer: true,
    certManagerInstalled: false,
    secretName: 'edge-tls',
    secretPresent: false,
    certificateExists: false,
  };
  const missing = computeStatus(base({ tls }));
  expect(cond(missing, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'CertManagerMissing' });
  expect(cond(missing, 'Ready')).toMatchObject({ status: 'False', reason: 'CertManagerMissing' });
  expect(cond(missing, 'Degraded')).toMatchObject({ status: 'True', reason: 'CertManagerMissing' });
  const issued = computeStatus(
    base({
      tls: {
        ...tls,
        certManagerInstalled: true,
        certificateExists: true,
        secretPresent: true,
        certificateReady: { status: 'True' },
      },
    }),
  );
  expect(cond(issued, 'CertificateReady')).toMatchObject({ status: 'True', reason: 'Issued' });
  expect(cond(issued, 'Ready')).toMatchObject({ status: 'True' });
});

test('no address yet keeps the relay not Ready', () => {
  expect(cond(computeStatus(base({ iceServers: [] })), 'Ready')).toMatchObject({
    status: 'False',
    reason: 'AddressPending',
  });
});

test('the merge patch nulls removed keys and only carries changes', () => {
  expect(statusMergePatch({ replicas: 1, selector: 'a=b' }, { replicas: 2 })).toEqual({
    status: { replicas: 2, selector: null },
  });
});

test('kstatus conditions: Reconciling while converging, neither when Ready, Stalled exactly when Degraded', () => {
  const healthy = computeStatus(base());
  expect(cond(healthy, 'Reconciling')).toMatchObject({ status: 'False', reason: 'ReconcileComplete' });
  expect(cond(healthy, 'Stalled')).toMatchObject({ status: 'False' });
  const starting = computeStatus(base({ workload: deployment(0) }));
  expect(cond(starting, 'Reconciling')).toMatchObject({
    status: 'True',
    reason: 'WorkloadUnavailable',
    message: '0/2 relay pods ready',
  });
  expect(cond(starting, 'Stalled')?.status).toBe('False');
  const rolling = computeStatus(base({ workload: deployment(1) }));
  expect(cond(rolling, 'Ready')?.status).toBe('True');
  expect(cond(rolling, 'Reconciling')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
  const conflict = computeStatus(base({ conflict: 'Service edge (no controller) already exists' }));
  expect(cond(conflict, 'Stalled')).toMatchObject({
    status: 'True',
    reason: 'NameConflict',
    message: 'Service edge (no controller) already exists',
  });
  expect(cond(conflict, 'Reconciling')).toMatchObject({ status: 'False', reason: 'Stalled' });
  const invalid = computeStatus(base({ invalid: [{ field: 'spec.listeners[0].port', message: 'too big' }] }));
  expect(cond(invalid, 'Stalled')).toMatchObject({
    status: 'True',
    reason: 'InvalidSpec',
    message: 'spec.listeners[0].port: too big',
  });
  const authBad = computeStatus(
    base({
      authCheck: {
        ok: false,
        reason: 'AuthSecretInvalid',
        message: 'spec.auth: Secret edge-turn-auth has no "secrets" key',
      },
    }),
  );
  expect(cond(authBad, 'Ready')).toMatchObject({ status: 'False', reason: 'AuthSecretInvalid' });
  expect(cond(authBad, 'Stalled')).toMatchObject({ status: 'True', reason: 'AuthSecretInvalid' });
});
