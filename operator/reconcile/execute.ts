// execute: carries out a plan, in order — the auth Secret, the applies, the
// prunes, the Events, the status — every write behind assertMayWrite, and
// remembering what it wrote so the next reconcile does not write it again.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { TurnRelay } from '../api/turnrelay.js';
import { FIELD_MANAGER } from '../render/names.js';
import { CONTENT, KubeApiError, isNotFound } from '../runtime/kube-rest.js';
import { SECRET_KIND, TURNRELAY_KIND, collectionPath, kindKey, objectPath } from '../runtime/resources.js';
import type { RawTurnRelay, ReconcileContext } from './context.js';
import { toRelayFields } from './field-map.js';
import { statusAfterApply, type PlannedApply, type RelayPlan, type SecretWrite, type StatusPlan } from './plan.js';

type ActPlan = Extract<RelayPlan, { kind: 'act' }>;

async function writeSecret(ctx: ReconcileContext, relay: TurnRelay, w: SecretWrite): Promise<void> {
  const ns = relay.metadata.namespace!;
  const name = w.secret.metadata!.name!;
  ctx.assertMayWrite();
  if (w.create) {
    await ctx.rest.request('POST', collectionPath(SECRET_KIND, ns), { body: w.secret });
    ctx.log.info({ relay: `${ns}/${relay.metadata.name}`, secretName: name }, 'created auth secret');
  } else {
    // PUT carries the resourceVersion we read: a concurrent change makes it fail (409) instead of overwriting.
    await ctx.rest.request('PUT', objectPath(SECRET_KIND, ns, name), { body: w.secret });
    ctx.log.info({ relay: `${ns}/${relay.metadata.name}`, secretName: name }, 'rotated auth secret');
  }
  await ctx.event(relay, w.event.type, w.event.reason, w.event.message);
}

async function apply(
  ctx: ReconcileContext,
  relay: TurnRelay,
  { kind, name, namespace, desired, reason }: PlannedApply,
): Promise<KubernetesObject> {
  ctx.assertMayWrite();
  // force: a field another manager took from us is taken back.
  const applied = await ctx.rest
    .request<KubernetesObject>('PATCH', objectPath(kind, namespace, name), {
      body: desired,
      contentType: CONTENT.apply,
      query: { fieldManager: FIELD_MANAGER, force: true },
    })
    .catch((err: unknown) => {
      // A refused apply names the child's field; say which TurnRelay field it came from.
      if (err instanceof KubeApiError && err.code === 422)
        throw new Error(`${kind.kind} ${name}: ${toRelayFields(kind.kind, err.message)}`);
      throw err;
    });
  ctx.children.get(kindKey(kind))?.view.remember(applied);
  ctx.metrics.applies.inc({ kind: kind.kind, reason });
  ctx.log.info(
    { relay: `${relay.metadata.namespace}/${relay.metadata.name}`, kind: kind.kind, name, reason },
    'applied child',
  );
  if (reason === 'drifted')
    await ctx.event(
      relay,
      'Warning',
      'DriftCorrected',
      `${kind.kind} ${name} was changed by another field manager; restored`,
    );
  return applied;
}

export async function writeStatus(ctx: ReconcileContext, raw: RawTurnRelay, plan: StatusPlan): Promise<void> {
  if (!plan.patch) return;
  ctx.assertMayWrite();
  const ns = raw.metadata!.namespace!;
  const updated = await ctx.rest.request<RawTurnRelay>(
    'PATCH',
    `${objectPath(TURNRELAY_KIND, ns, raw.metadata!.name!)}/status`,
    { body: plan.patch, contentType: CONTENT.merge },
  );
  ctx.relays.remember(updated);
  ctx.log.debug(
    {
      relay: `${ns}/${raw.metadata!.name}`,
      changed: Object.keys(plan.patch.status),
      rv: updated.metadata?.resourceVersion,
      basedOn: raw.metadata?.resourceVersion,
    },
    'status updated',
  );
  for (const e of plan.events) await ctx.event(raw, e.type, e.reason, e.message);
}

/** Performs `plan`; returns the status it wrote (or left as it was). */
export async function executePlan(
  ctx: ReconcileContext,
  raw: RawTurnRelay,
  relay: TurnRelay,
  plan: ActPlan,
  now: number,
): Promise<StatusPlan> {
  if (plan.secretWrite) await writeSecret(ctx, relay, plan.secretWrite);
  let status = plan.status;
  for (const a of plan.applies) {
    const applied = await apply(ctx, relay, a);
    if (a === plan.workloadApply) status = statusAfterApply({ raw, now }, plan, applied);
  }
  for (const { kind, name, namespace } of plan.prunes) {
    ctx.assertMayWrite();
    try {
      await ctx.rest.request('DELETE', objectPath(kind, namespace, name), {
        query: { propagationPolicy: 'Background' },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    ctx.children.get(kindKey(kind))?.view.forget(name, namespace);
    ctx.metrics.prunes.inc({ kind: kind.kind });
    ctx.log.info({ relay: `${namespace}/${relay.metadata.name}`, kind: kind.kind, name }, 'pruned child');
  }
  for (const e of plan.events) await ctx.event(relay, e.type, e.reason, e.message);
  await writeStatus(ctx, raw, status);
  return status;
}
