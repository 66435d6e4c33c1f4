// The TurnRelay status as a pure function of what the reconcile observed.
// Condition semantics:
//   Ready            the relay can be used: workload has a ready pod, TLS (if
//                    any) has a certificate, and clients have an address.
//   Progressing      a rollout (or the first start) is under way.
//   Degraded         something needs a human: invalid spec, a child's name
//                    taken by an object this relay does not own, a TLS or
//                    auth Secret that is missing or unusable, reconcile errors.
//   CertificateReady only present when a TLS listener exists.
//   Reconciling      kstatus convention (Flux, kpt, Argo CD health checks):
//                    True while the relay is on its way to Ready or rolling
//                    out, so GitOps tools wait.
//   Stalled          kstatus convention: True exactly when Degraded is, i.e.
//                    the relay cannot converge without a human, so GitOps
//                    tools fail fast instead of waiting for their timeout.
import type { TurnRelay, TurnRelayCondition, TurnRelayStatus } from '../api/turnrelay.js';
import type { ValidationIssue } from '../api/validate.js';
import { toCondition, type ConditionInput } from './conditions.js';
import type { SecretCheck } from './secret-checks.js';
import type { WorkloadState } from './workload.js';

export interface TlsObservation {
  /** cert-manager Certificate requested (spec.tls.issuerRef). */
  viaIssuer: boolean;
  certManagerInstalled: boolean;
  secretName: string;
  secretPresent: boolean;
  /** The Certificate's Ready condition, when it exists. */
  certificateReady?: { status: string; reason?: string; message?: string };
  certificateExists: boolean;
  /** What the Secret's content is worth (when it exists): see secret-checks.ts. */
  secretCheck?: SecretCheck;
}

export interface StatusInput {
  relay: Pick<TurnRelay, 'metadata' | 'status'>;
  now: Date;
  invalid?: ValidationIssue[];
  error?: string;
  workload?: WorkloadState;
  iceServers?: string[];
  endpoints?: string[];
  authSecretName?: string;
  /** e.g. a user-provided auth Secret, which the operator does not rotate. */
  authNote?: string;
  /** The auth Secret's content, when it exists. */
  authCheck?: SecretCheck;
  /** Children whose names are taken by objects this relay does not own. */
  conflict?: string;
  tls?: TlsObservation;
}

const failed = (check: SecretCheck | undefined) => (check && !check.ok ? check : undefined);

function certificateCondition(tls: TlsObservation): ConditionInput {
  const c = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({
    type: 'CertificateReady',
    status,
    reason,
    message,
  });
  if (tls.viaIssuer) {
    if (!tls.certManagerInstalled) {
      return c(
        'False',
        'CertManagerMissing',
        'spec.tls.issuerRef needs cert-manager, but the Certificate CRD (cert-manager.io/v1) is not installed; install cert-manager or use spec.tls.secretName',
      );
    }
    if (!tls.certificateExists) return c('False', 'CertificatePending', 'waiting for the Certificate to be created');
    if (tls.certificateReady?.status === 'True') {
      if (!tls.secretPresent)
        return c('False', 'SecretMissing', `Certificate is ready but Secret ${tls.secretName} does not exist yet`);
      const bad = failed(tls.secretCheck);
      if (bad) return c('False', bad.reason, bad.message);
      return c('True', 'Issued', `certificate issued into Secret ${tls.secretName}${validUntil(tls.secretCheck)}`);
    }
    return c(
      'False',
      tls.certificateReady?.reason ?? 'CertificatePending',
      tls.certificateReady?.message ?? 'waiting for cert-manager to issue the certificate',
    );
  }
  if (!tls.secretPresent)
    return c('False', 'SecretMissing', `spec.tls.secretName: Secret ${tls.secretName} not found in this namespace`);
  const bad = failed(tls.secretCheck);
  if (bad) return c('False', bad.reason, bad.message);
  return c('True', 'SecretFound', `using TLS key pair from Secret ${tls.secretName}${validUntil(tls.secretCheck)}`);
}

function validUntil(check: SecretCheck | undefined): string {
  return check?.ok && check.notAfter ? `, valid until ${check.notAfter}` : '';
}

/** TLS problems a human must fix (waiting for cert-manager is not one). */
function tlsBroken(tls: TlsObservation | undefined, cert: ConditionInput | undefined): boolean {
  if (!tls || !cert || cert.status === 'True') return false;
  if (cert.reason === 'CertManagerMissing') return true;
  if (cert.reason === 'SecretMissing') return !tls.viaIssuer;
  return !!failed(tls.secretCheck);
}

function describeIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

/** Reconciling and Stalled, derived from the other conditions (see the top of this file). */
function gitOpsConditions(
  ready: boolean,
  rolling: boolean,
  degraded: Pick<ConditionInput, 'status' | 'reason' | 'message'>,
  readyCond?: ConditionInput,
): ConditionInput[] {
  const stalled = degraded.status === 'True';
  const reconciling = !stalled && (!ready || rolling);
  return [
    reconciling
      ? {
          type: 'Reconciling',
          status: 'True',
          reason: ready ? 'RolloutInProgress' : (readyCond?.reason ?? 'Reconciling'),
          message: readyCond?.message ?? '',
        }
      : {
          type: 'Reconciling',
          status: 'False',
          reason: stalled ? 'Stalled' : 'ReconcileComplete',
          message: stalled ? 'waiting for the problem in Stalled to be fixed' : 'the relay is Ready and rolled out',
        },
    stalled
      ? { type: 'Stalled', status: 'True', reason: degraded.reason, message: degraded.message }
      : { type: 'Stalled', status: 'False', reason: 'AsExpected', message: 'no problems found' },
  ];
}

export function computeStatus(input: StatusInput): TurnRelayStatus {
  const { relay, now } = input;
  const prev = relay.status ?? {};
  const generation = relay.metadata.generation;
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conds: ConditionInput[] = [];

  if (input.invalid) {
    const message = describeIssues(input.invalid);
    conds.push(
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
      {
        type: 'Progressing',
        status: 'False',
        reason: 'InvalidSpec',
        message: 'nothing is changed until the spec is fixed',
      },
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message },
      ...gitOpsConditions(false, false, { status: 'True', reason: 'InvalidSpec', message }),
    );
    const keep = prev.conditions?.find((c) => c.type === 'CertificateReady');
    const conditions = conds.map((c) => toCondition(c, prev.conditions, generation, at));
    // Children are left as they are, so everything else about them stays as last reported.
    return { ...prev, observedGeneration: generation, conditions: keep ? [...conditions, keep] : conditions };
  }

  const cert = input.tls ? certificateCondition(input.tls) : undefined;
  const w = input.workload;
  const ice = input.iceServers ?? [];
  const available = !!w && w.ready > 0;
  const rolling = !w || !w.observedLatest || w.updated < w.desired || w.ready < w.desired || w.current > w.updated;
  const podsMsg = w ? `${w.ready}/${w.desired} relay pods ready` : 'relay workload not created yet';

  const authBad = failed(input.authCheck);
  let ready: ConditionInput;
  if (input.error) ready = { type: 'Ready', status: 'False', reason: 'ReconcileError', message: input.error };
  else if (input.conflict) ready = { type: 'Ready', status: 'False', reason: 'NameConflict', message: input.conflict };
  else if (authBad) ready = { type: 'Ready', status: 'False', reason: authBad.reason, message: authBad.message };
  else if (cert && cert.status !== 'True')
    ready = { type: 'Ready', status: 'False', reason: cert.reason, message: cert.message };
  else if (!available) ready = { type: 'Ready', status: 'False', reason: 'WorkloadUnavailable', message: podsMsg };
  else if (ice.length === 0)
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'AddressPending',
      message: 'waiting for an external address (LoadBalancer ingress or node addresses)',
    };
  else ready = { type: 'Ready', status: 'True', reason: 'RelayReady', message: podsMsg };
  conds.push(ready);

  conds.push(
    rolling
      ? { type: 'Progressing', status: 'True', reason: 'RolloutInProgress', message: podsMsg }
      : { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: podsMsg },
  );

  if (input.error) conds.push({ type: 'Degraded', status: 'True', reason: 'ReconcileError', message: input.error });
  else if (input.conflict)
    conds.push({ type: 'Degraded', status: 'True', reason: 'NameConflict', message: input.conflict });
  else if (authBad) conds.push({ type: 'Degraded', status: 'True', reason: authBad.reason, message: authBad.message });
  else if (cert && tlsBroken(input.tls, cert))
    conds.push({ type: 'Degraded', status: 'True', reason: cert.reason, message: cert.message });
  else
    conds.push({
      type: 'Degraded',
      status: 'False',
      reason: 'AsExpected',
      message: input.authNote ?? 'no problems found',
    });
  if (cert) conds.push(cert);
  const degraded = conds.find((c) => c.type === 'Degraded')!;
  conds.push(...gitOpsConditions(ready.status === 'True', rolling, degraded, ready));

  const status: TurnRelayStatus = {
    observedGeneration: generation,
    conditions: conds.map((c) => toCondition(c, prev.conditions, generation, at)),
    replicas: w?.current ?? 0,
    readyReplicas: w?.ready ?? 0,
    iceServers: ice,
  };
  if (w?.selector) status.selector = w.selector;
  if (input.endpoints?.length) status.endpoints = input.endpoints.join(',');
  if (input.authSecretName) status.authSecretName = input.authSecretName;
  return status;
}

const EXPECTED_WAITS = new Set(['WorkloadUnavailable', 'AddressPending', 'CertificatePending']);

/** Events worth recording for a status change (transitions only, so a steady state emits none). */
export function transitionEvents(
  before: readonly TurnRelayCondition[] | undefined,
  after: readonly TurnRelayCondition[] | undefined,
): Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> {
  const events: Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> = [];
  const changed = (t: string) => {
    const a = before?.find((c) => c.type === t);
    const b = after?.find((c) => c.type === t);
    return b && (!a || a.status !== b.status || a.reason !== b.reason) ? b : undefined;
  };
  // A new relay is expected to wait for pods and addresses; only problems are worth an Event then.
  const routineStart = (type: string, c: TurnRelayCondition) =>
    !before?.some((x) => x.type === type) && c.status !== 'True' && EXPECTED_WAITS.has(c.reason ?? '');
  const readyChange = changed('Ready');
  const ready = readyChange && !routineStart('Ready', readyChange) ? readyChange : undefined;
  if (ready)
    events.push({
      type: ready.status === 'True' ? 'Normal' : 'Warning',
      reason: ready.status === 'True' ? 'Ready' : (ready.reason ?? 'NotReady'),
      message: ready.message ?? '',
    });
  const certChange = changed('CertificateReady');
  const cert = certChange && !routineStart('CertificateReady', certChange) ? certChange : undefined;
  if (cert && cert.reason !== ready?.reason)
    events.push({
      type: cert.status === 'True' ? 'Normal' : 'Warning',
      reason: cert.status === 'True' ? 'CertificateReady' : (cert.reason ?? 'CertificateNotReady'),
      message: cert.message ?? '',
    });
  return events;
}
