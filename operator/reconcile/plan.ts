// planRelay: everything one reconcile will do, decided from gathered inputs
// alone — the auth Secret write (if any), the children to apply and why, the
// children to prune, and the status with its Events. Pure: the same inputs
// give the same plan, and nothing here talks to the API server.
import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import type { TurnRelayStatus } from '../api/turnrelay.js';
import { planAuthSecret } from '../render/auth-secret.js';
import { clientHosts } from '../render/addresses.js';
import { iceServerUrls } from '../render/ice-servers.js';
import { renderRelay, type RenderedChildren } from '../render/index.js';
import { FIELD_MANAGER, authSecretNameFor } from '../render/names.js';
import { conflictMessage, describeController, ownership, type NameConflict } from '../render/ownership.js';
import { applyReason, withContentHash, type ApplyReason } from '../runtime/drift.js';
import { childKindOf, type ResourceKind } from '../runtime/resources.js';
import { computeStatus, transitionEvents, type StatusInput, type TlsObservation } from '../status/compute-status.js';
import { checkAuthSecret, checkTlsSecret, type SecretCheck } from '../status/secret-checks.js';
import { statusMergePatch } from '../status/status-patch.js';
import { workloadState } from '../status/workload.js';
import type { EventType } from '../runtime/events.js';
import { childKey, type RelayInputs } from './gather.js';
import { unwantedChildren } from './prune.js';

/** How soon a relay blocked by a name conflict looks again (the blocking object carries no label we watch). */
export const CONFLICT_RETRY_MS = 30_000;

export interface ChildRef {
  kind: ResourceKind;
  name: string;
  namespace: string;
}
export interface PlannedEvent {
  type: EventType;
  reason: string;
  message: string;
}

export interface SecretWrite {
  create: boolean;
  secret: V1Secret;
  event: PlannedEvent;
}

export interface PlannedApply extends ChildRef {
  desired: KubernetesObject;
  reason: ApplyReason;
}

export interface StatusPlan {
  status: TurnRelayStatus;
  /** Merge patch for the status subresource; undefined = unchanged, no write. */
  patch?: { status: Record<string, unknown> };
  events: PlannedEvent[];
}

export type RelayPlan =
  /** Children the caches cannot show: read them directly, then plan again. */
  | { kind: 'read'; unread: ChildRef[] }
  | {
      kind: 'act';
      secretWrite?: SecretWrite;
      authSecretName: string;
      applies: PlannedApply[];
      prunes: ChildRef[];
      /** Events before the status (e.g. NameConflict). */
      events: PlannedEvent[];
      statusInput: Omit<StatusInput, 'relay' | 'now'>;
      /** The status if no apply changes the workload; see statusAfterApply. */
      status: StatusPlan;
      /** The apply of the relay Deployment, if any: its response is the workload the status describes. */
      workloadApply?: PlannedApply;
      requeueAfterMs?: number;
    };

/** The status to write for `input` over what the relay carries now. */
export function planStatus(
  inputs: Pick<RelayInputs, 'raw' | 'now'>,
  input: Omit<StatusInput, 'relay' | 'now'>,
): StatusPlan {
  const status = computeStatus({ ...input, relay: inputs.raw as StatusInput['relay'], now: new Date(inputs.now) });
  const patch = statusMergePatch(inputs.raw.status, status);
  return {
    status,
    ...(patch ? { patch } : {}),
    events: patch ? transitionEvents(inputs.raw.status?.conditions, status.conditions) : [],
  };
}

function authCheckField(inputs: RelayInputs): string {
  return inputs.relay.spec.auth.secretRef ? 'spec.auth.secretRef.name' : 'spec.auth';
}

function tlsObservation(inputs: RelayInputs, rendered: RenderedChildren): TlsObservation | undefined {
  if (!rendered.tlsSecretName) return undefined;
  const { relay, tlsSecret: secret, certificate: cert } = inputs;
  const viaIssuer = !!relay.spec.tls?.issuerRef;
  const certRendered = rendered.objects.some((o) => o.kind === 'Certificate');
  const ready = certRendered ? cert?.status?.conditions?.find((c) => c.type === 'Ready') : undefined;
  const field = viaIssuer ? 'spec.tls.issuerRef' : 'spec.tls.secretName';
  return {
    viaIssuer,
    certManagerInstalled: inputs.observed.certManager,
    secretName: rendered.tlsSecretName,
    secretPresent: !!secret,
    certificateExists: certRendered && !!cert,
    ...(ready ? { certificateReady: ready } : {}),
    ...(secret
      ? {
          secretCheck: checkTlsSecret(secret, {
            field,
            dnsNames: relay.spec.tls?.dnsNames ?? [],
            now: new Date(inputs.now),
          }),
        }
      : {}),
  };
}

export function planRelay(inputs: RelayInputs): RelayPlan {
  const { relay } = inputs;
  const ns = relay.metadata.namespace!;
  const authSecretName = authSecretNameFor(relay);
  const auth = planAuthSecret(inputs.authSecret, relay, inputs.now, () => inputs.freshSecret);
  const rendered = renderRelay({ relay, image: inputs.image, authSecretName, observed: inputs.observed });

  const unread: ChildRef[] = [];
  const conflicts: NameConflict[] = [];
  const applies: PlannedApply[] = [];
  for (const obj of rendered.objects) {
    const kind = childKindOf(obj.apiVersion, obj.kind);
    if (!kind) throw new Error(`renderer produced ${obj.apiVersion}/${obj.kind}, which the runtime does not manage`);
    const name = obj.metadata!.name!;
    const namespace = obj.metadata!.namespace ?? ns;
    const key = childKey(kind, name);
    const live = inputs.live.get(key);
    if (!live && !inputs.read.has(key)) {
      unread.push({ kind, name, namespace });
      continue;
    }
    if (ownership(live, relay.metadata.uid!) === 'foreign')
      conflicts.push({ kind: kind.kind, name, controller: describeController(live!) });
    const desired = withContentHash(obj);
    const reason = applyReason(desired, live, FIELD_MANAGER);
    if (reason) applies.push({ kind, name, namespace, desired, reason });
  }
  if (unread.length > 0) return { kind: 'read', unread };

  const conflict = conflicts.length > 0 ? conflictMessage(conflicts) : undefined;
  const candidates = inputs.labelled.map((c) => ({ kind: c.kind.kind, obj: c.obj, resource: c.kind }));
  const prunes = conflict ? [] : unwantedChildren(candidates, rendered.objects, relay.metadata.uid!);
  const current: V1Secret | undefined = auth.secret ?? inputs.authSecret;
  const authCheck: SecretCheck | undefined = current ? checkAuthSecret(current, authCheckField(inputs)) : undefined;
  const tls = tlsObservation(inputs, rendered);
  const statusInput: Omit<StatusInput, 'relay' | 'now'> = {
    ...(inputs.workload ? { workload: workloadState(inputs.workload) } : {}),
    iceServers: iceServerUrls(relay, inputs.observed),
    endpoints: clientHosts(relay, inputs.observed),
    authSecretName,
    ...(auth.note ? { authNote: auth.note } : {}),
    ...(authCheck ? { authCheck } : {}),
    ...(conflict ? { conflict } : {}),
    ...(tls ? { tls } : {}),
  };
  const workloadApply = applies.find((a) => a.kind.kind === 'Deployment' && a.name === rendered.workloadName);
  const requeue = Math.min(auth.requeueAfterMs ?? Infinity, conflict ? CONFLICT_RETRY_MS : Infinity);
  return {
    kind: 'act',
    ...(auth.secret
      ? {
          secretWrite: {
            create: auth.create,
            secret: auth.secret,
            event: auth.create
              ? {
                  type: 'Normal',
                  reason: 'AuthSecretCreated',
                  message: `created Secret ${authSecretName} with a new TURN REST shared secret`,
                }
              : {
                  type: 'Normal',
                  reason: 'AuthSecretRotated',
                  message: `rotated the shared secrets in Secret ${authSecretName}`,
                },
          },
        }
      : {}),
    authSecretName,
    // Writing any child would leave the relay half-built around someone else's object.
    applies: conflict ? [] : applies,
    prunes: prunes.map(({ resource, obj }) => ({ kind: resource, name: obj.metadata!.name!, namespace: ns })),
    events: conflict ? [{ type: 'Warning', reason: 'NameConflict', message: conflict }] : [],
    statusInput,
    status: planStatus(inputs, statusInput),
    ...(workloadApply && !conflict ? { workloadApply } : {}),
    ...(Number.isFinite(requeue) ? { requeueAfterMs: requeue } : {}),
  };
}

/**
 * The status once the workload apply has returned: the API server's answer
 * (a new generation not yet observed by the Deployment controller, or a new
 * object without status) is what the relay's rollout state is.
 */
export function statusAfterApply(
  inputs: Pick<RelayInputs, 'raw' | 'now'>,
  plan: Extract<RelayPlan, { kind: 'act' }>,
  appliedWorkload: V1Deployment,
): StatusPlan {
  return planStatus(inputs, { ...plan.statusInput, workload: workloadState(appliedWorkload) });
}
