// The one reconcile entry for a TurnRelay: gather → plan → execute.
//   get → validate (invalid: status + Event only) → gather (caches; direct
//   reads of the auth and TLS Secrets and of child names the caches cannot
//   show) → planRelay (pure: auth Secret write, applies, prunes, status) →
//   execute (writes only where something differs).
// A child name taken by an object this relay does not own stops every write
// (NameConflict); the plan says so and execute writes only status and Events.
import type { TurnRelay } from '../api/turnrelay.js';
import { validateTurnRelay } from '../api/validate.js';
import { isConflict } from '../runtime/kube-rest.js';
import type { RawTurnRelay, ReconcileContext, ReconcileOutcome } from './context.js';
import { executePlan, writeStatus } from './execute.js';
import { gatherRelay, gatherUnread } from './gather.js';
import { planRelay, planStatus, type RelayPlan } from './plan.js';

export { CONFLICT_RETRY_MS } from './plan.js';

const errMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function gatherAndPlan(
  ctx: ReconcileContext,
  raw: RawTurnRelay,
  relay: TurnRelay,
  now: number,
): Promise<Extract<RelayPlan, { kind: 'act' }>> {
  let inputs = await gatherRelay(ctx, raw, relay, now);
  let plan = planRelay(inputs);
  if (plan.kind === 'read') {
    inputs = await gatherUnread(ctx, inputs, plan.unread);
    plan = planRelay(inputs);
  }
  if (plan.kind === 'read')
    throw new Error(`could not read ${plan.unread.map((u) => `${u.kind.kind} ${u.name}`).join(', ')}`);
  return plan;
}

export async function reconcileRelay(
  ctx: ReconcileContext,
  namespace: string,
  name: string,
): Promise<ReconcileOutcome> {
  const raw = ctx.relays.get(name, namespace);
  // Gone or going: the garbage collector removes children through their owner references.
  if (!raw || raw.metadata?.deletionTimestamp) return { result: 'gone' };

  const validation = validateTurnRelay(raw);
  if (!validation.ok) {
    await writeStatus(ctx, raw, planStatus({ raw, now: ctx.now() }, { invalid: validation.issues }));
    return { result: 'invalid' };
  }
  const relay = validation.relay;

  let plan: Extract<RelayPlan, { kind: 'act' }> | undefined;
  try {
    const now = ctx.now();
    plan = await gatherAndPlan(ctx, raw, relay, now);
    const status = await executePlan(ctx, raw, relay, plan, now);
    const ready = status.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return {
      result: ready ? 'ready' : 'not-ready',
      ...(plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {}),
    };
  } catch (err) {
    // Report the failure on the resource (best effort), then let the queue retry with backoff.
    if (!isConflict(err)) {
      try {
        const authSecretName = plan?.authSecretName;
        await writeStatus(
          ctx,
          raw,
          planStatus(
            { raw, now: ctx.now() },
            {
              error: errMessage(err),
              ...(authSecretName ? { authSecretName } : {}),
              iceServers: raw.status?.iceServers ?? [],
            },
          ),
        );
      } catch (statusErr) {
        ctx.log.debug({ err: errMessage(statusErr) }, 'could not report reconcile error in status');
      }
    }
    throw err;
  }
}
