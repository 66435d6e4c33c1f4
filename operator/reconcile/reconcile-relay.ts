// The one reconcile entry for a TurnRelay:
//   get → validate (invalid: status + Event only) → auth Secret (create if
//   absent, rotate if ours, never overwrite) → observe → render → ownership
//   (a child name taken by an object this relay does not own stops every
//   write: NameConflict) → apply changed children → prune unwanted children →
//   status (only if changed).
// Every step reads caches; writes happen only where something differs.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { TurnRelay } from '../api/turnrelay.js';
import { validateTurnRelay } from '../api/validate.js';
import { planAuthSecret } from '../render/auth-secret.js';
import { iceServerUrls } from '../render/ice-servers.js';
import { clientHosts } from '../render/addresses.js';
import { renderRelay, type Observed, type RenderedChildren } from '../render/index.js';
import { FIELD_MANAGER, RELAY_LABEL, authSecretNameFor } from '../render/names.js';
import { computeStatus, transitionEvents, type StatusInput, type TlsObservation } from '../status/compute-status.js';
import { statusMergePatch } from '../status/status-patch.js';
import { workloadState } from '../status/workload.js';
import { applyReason, withContentHash } from '../runtime/drift.js';
import { CONTENT, KubeApiError, isConflict, isNotFound } from '../runtime/kube-rest.js';
import { conflictMessage, describeController, ownership, type NameConflict } from '../render/ownership.js';
import { checkAuthSecret, checkTlsSecret, type SecretCheck } from '../status/secret-checks.js';
import { toRelayFields } from './field-map.js';
import { CERTIFICATE_KIND, SECRET_KIND, TURNRELAY_KIND, childKindOf, collectionPath, kindKey, objectPath, type ResourceKind } from '../runtime/resources.js';
import type { ChildCache, ReconcileContext, ReconcileOutcome } from './context.js';
import { allowedServiceKeys, endpointIPs, nodeAddressMap, nodeAddresses, serviceClusterIPs, serviceIngress } from './observe.js';
import { unwantedChildren } from './prune.js';

const errMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** How soon a relay blocked by a name conflict looks again (the blocking object carries no label we watch). */
export const CONFLICT_RETRY_MS = 30_000;
const childView = (ctx: ReconcileContext, kind: Pick<ResourceKind, 'apiVersion' | 'kind'>) => ctx.children.get(kindKey(kind))?.view;

type AuthResult = { name: string; note?: string; check?: SecretCheck; requeueAfterMs?: number };

async function ensureAuthSecret(ctx: ReconcileContext, relay: TurnRelay): Promise<AuthResult> {
  const name = authSecretNameFor(relay);
  const ns = relay.metadata.namespace!;
  // Read from the API, not a cache: credentials must be decided on the latest data.
  const existing = await ctx.rest.find<V1Secret>(objectPath(SECRET_KIND, ns, name));
  const plan = planAuthSecret(existing, relay, ctx.now(), ctx.newSecret);
  if (plan.secret) {
    ctx.assertMayWrite();
    if (plan.create) {
      await ctx.rest.request('POST', collectionPath(SECRET_KIND, ns), { body: plan.secret });
      ctx.log.info({ relay: `${ns}/${relay.metadata.name}`, secretName: name }, 'created auth secret');
      await ctx.event(relay, 'Normal', 'AuthSecretCreated', `created Secret ${name} with a new TURN REST shared secret`);
    } else {
      // PUT carries the resourceVersion we read: a concurrent change makes it fail (409) instead of overwriting.
      await ctx.rest.request('PUT', objectPath(SECRET_KIND, ns, name), { body: plan.secret });
      ctx.log.info({ relay: `${ns}/${relay.metadata.name}`, secretName: name }, 'rotated auth secret');
      await ctx.event(relay, 'Normal', 'AuthSecretRotated', `rotated the shared secrets in Secret ${name}`);
    }
  }
  const current = plan.secret ?? existing;
  const field = relay.spec.auth.secretRef ? 'spec.auth.secretRef.name' : 'spec.auth';
  return {
    name,
    ...(plan.note ? { note: plan.note } : {}),
    ...(current ? { check: checkAuthSecret(current, field) } : {}),
    ...(plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {}),
  };
}

function observe(ctx: ReconcileContext, relay: TurnRelay, serviceName: string): Observed {
  const ns = relay.metadata.namespace!;
  const service = childView(ctx, { apiVersion: 'v1', kind: 'Service' })?.get(serviceName, ns) as never;
  const nodes = relay.spec.network.mode === 'HostNetwork' ? (ctx.nodes.list() as never[]) : [];
  return {
    serviceIngress: serviceIngress(service),
    serviceClusterIPs: serviceClusterIPs(service),
    nodeAddresses: nodeAddresses(nodes),
    nodeAddressMap: nodeAddressMap(nodes),
    allowedServiceIPs: endpointIPs(ctx.endpointSlices.list() as never, allowedServiceKeys(relay)),
    certManager: ctx.certManagerInstalled(),
    prometheusOperator: ctx.prometheusOperatorInstalled(),
  };
}

interface PlannedChild { kind: ResourceKind; desired: KubernetesObject; live: KubernetesObject | undefined; name: string; ns: string }

/**
 * Each desired child with the live object of its name. The caches hold only
 * objects labelled for a relay, so a name missing there is read directly: an
 * unlabelled object of someone else's must be seen before anything is written.
 */
async function gatherChildren(ctx: ReconcileContext, relay: TurnRelay, rendered: RenderedChildren): Promise<{ children: PlannedChild[]; conflicts: NameConflict[] }> {
  const children: PlannedChild[] = [];
  const conflicts: NameConflict[] = [];
  for (const obj of rendered.objects) {
    const kind = childKindOf(obj.apiVersion, obj.kind);
    if (!kind) throw new Error(`renderer produced ${obj.apiVersion}/${obj.kind}, which the runtime does not manage`);
    const name = obj.metadata!.name!;
    const ns = obj.metadata!.namespace ?? relay.metadata.namespace!;
    const live = childView(ctx, kind)?.get(name, ns) ?? (await ctx.rest.find<KubernetesObject>(objectPath(kind, ns, name)));
    if (ownership(live, relay.metadata.uid!) === 'foreign') conflicts.push({ kind: kind.kind, name, controller: describeController(live!) });
    children.push({ kind, desired: withContentHash(obj), live, name, ns });
  }
  return { children, conflicts };
}

async function applyChildren(ctx: ReconcileContext, relay: TurnRelay, children: readonly PlannedChild[]): Promise<void> {
  for (const { kind, desired, live, name, ns } of children) {
    const view = childView(ctx, kind);
    const reason = applyReason(desired, live, FIELD_MANAGER);
    if (!reason) continue;
    ctx.assertMayWrite();
    // force: a field another manager took from us is taken back.
    const applied = await ctx.rest.request<KubernetesObject>('PATCH', objectPath(kind, ns, name), {
      body: desired,
      contentType: CONTENT.apply,
      query: { fieldManager: FIELD_MANAGER, force: true },
    }).catch((err: unknown) => {
      // A refused apply names the child's field; say which TurnRelay field it came from.
      if (err instanceof KubeApiError && err.code === 422) throw new Error(`${kind.kind} ${name}: ${toRelayFields(kind.kind, err.message)}`);
      throw err;
    });
    view?.remember(applied);
    ctx.metrics.applies.inc({ kind: kind.kind, reason });
    ctx.log.info({ relay: `${relay.metadata.namespace}/${relay.metadata.name}`, kind: kind.kind, name, reason }, 'applied child');
    if (reason === 'drifted') await ctx.event(relay, 'Warning', 'DriftCorrected', `${kind.kind} ${name} was changed by another field manager; restored`);
  }
}

async function pruneChildren(ctx: ReconcileContext, relay: TurnRelay, rendered: RenderedChildren): Promise<void> {
  const ns = relay.metadata.namespace!;
  const live: Array<{ kind: string; obj: KubernetesObject; entry: ChildCache }> = [];
  for (const entry of ctx.children.values()) {
    for (const obj of entry.view.list(ns)) {
      if (obj.metadata?.labels?.[RELAY_LABEL] === relay.metadata.name) live.push({ kind: entry.kind.kind, obj, entry });
    }
  }
  for (const { kind, obj, entry } of unwantedChildren(live, rendered.objects, relay.metadata.uid!)) {
    ctx.assertMayWrite();
    try {
      await ctx.rest.request('DELETE', objectPath(entry.kind, ns, obj.metadata!.name!), { query: { propagationPolicy: 'Background' } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    entry.view.forget(obj.metadata!.name!, ns);
    ctx.metrics.prunes.inc({ kind });
    ctx.log.info({ relay: `${ns}/${relay.metadata.name}`, kind, name: obj.metadata!.name }, 'pruned child');
  }
}

async function observeTls(ctx: ReconcileContext, relay: TurnRelay, rendered: RenderedChildren): Promise<TlsObservation | undefined> {
  if (!rendered.tlsSecretName) return undefined;
  const ns = relay.metadata.namespace!;
  const viaIssuer = !!relay.spec.tls?.issuerRef;
  const secret = await ctx.rest.find<V1Secret>(objectPath(SECRET_KIND, ns, rendered.tlsSecretName));
  const certObj = rendered.objects.find((o) => o.kind === CERTIFICATE_KIND.kind);
  const cert = certObj ? childView(ctx, CERTIFICATE_KIND)?.get(certObj.metadata!.name!, ns) : undefined;
  const ready = (cert as { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } } | undefined)?.status?.conditions?.find((c) => c.type === 'Ready');
  const field = viaIssuer ? 'spec.tls.issuerRef' : 'spec.tls.secretName';
  return {
    viaIssuer,
    certManagerInstalled: ctx.certManagerInstalled(),
    secretName: rendered.tlsSecretName,
    secretPresent: !!secret,
    certificateExists: !!cert,
    ...(ready ? { certificateReady: ready } : {}),
    ...(secret ? { secretCheck: checkTlsSecret(secret, { field, dnsNames: relay.spec.tls?.dnsNames ?? [], now: new Date(ctx.now()) }) } : {}),
  };
}

async function writeStatus(ctx: ReconcileContext, raw: KubernetesObject & { status?: TurnRelay['status'] }, input: Omit<StatusInput, 'relay' | 'now'>): Promise<TurnRelay['status']> {
  const status = computeStatus({ ...input, relay: raw as TurnRelay, now: new Date(ctx.now()) });
  const patch = statusMergePatch(raw.status, status);
  if (patch) {
    ctx.assertMayWrite();
    const ns = raw.metadata!.namespace!;
    const updated = await ctx.rest.request<KubernetesObject>('PATCH', `${objectPath(TURNRELAY_KIND, ns, raw.metadata!.name!)}/status`, { body: patch, contentType: CONTENT.merge });
    ctx.relays.remember(updated);
    ctx.log.debug({ relay: `${ns}/${raw.metadata!.name}`, changed: Object.keys(patch.status), rv: updated.metadata?.resourceVersion, basedOn: raw.metadata?.resourceVersion }, 'status updated');
    for (const e of transitionEvents(raw.status?.conditions, status.conditions)) await ctx.event(raw, e.type, e.reason, e.message);
  }
  return status;
}

export async function reconcileRelay(ctx: ReconcileContext, namespace: string, name: string): Promise<ReconcileOutcome> {
  const raw = ctx.relays.get(name, namespace) as (KubernetesObject & { status?: TurnRelay['status'] }) | undefined;
  // Gone or going: the garbage collector removes children through their owner references.
  if (!raw || raw.metadata?.deletionTimestamp) return { result: 'gone' };

  const validation = validateTurnRelay(raw);
  if (!validation.ok) {
    await writeStatus(ctx, raw, { invalid: validation.issues });
    return { result: 'invalid' };
  }
  const relay = validation.relay;

  let auth: AuthResult | undefined;
  try {
    auth = await ensureAuthSecret(ctx, relay);
    const observed = observe(ctx, relay, relay.metadata.name!);
    const rendered = renderRelay({ relay, image: ctx.image, authSecretName: auth.name, observed });
    const { children, conflicts } = await gatherChildren(ctx, relay, rendered);
    const conflict = conflicts.length > 0 ? conflictMessage(conflicts) : undefined;
    if (conflict) {
      // Writing any child would leave the relay half-built around someone else's object.
      await ctx.event(relay, 'Warning', 'NameConflict', conflict);
    } else {
      await applyChildren(ctx, relay, children);
      await pruneChildren(ctx, relay, rendered);
    }

    const workloadObj = rendered.objects.find((o) => o.metadata?.name === rendered.workloadName && o.kind === 'Deployment');
    const workloadKind = workloadObj && childKindOf(workloadObj.apiVersion, workloadObj.kind);
    const liveWorkload = workloadKind ? childView(ctx, workloadKind)?.get(rendered.workloadName, namespace) : undefined;
    const tls = await observeTls(ctx, relay, rendered);
    const status = await writeStatus(ctx, raw, {
      ...(liveWorkload ? { workload: workloadState(liveWorkload as never) } : {}),
      iceServers: iceServerUrls(relay, observed),
      endpoints: clientHosts(relay, observed),
      authSecretName: auth.name,
      ...(auth.note ? { authNote: auth.note } : {}),
      ...(auth.check ? { authCheck: auth.check } : {}),
      ...(conflict ? { conflict } : {}),
      ...(tls ? { tls } : {}),
    });
    const ready = status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const requeue = Math.min(auth.requeueAfterMs ?? Infinity, conflict ? CONFLICT_RETRY_MS : Infinity);
    return { result: ready ? 'ready' : 'not-ready', ...(Number.isFinite(requeue) ? { requeueAfterMs: requeue } : {}) };
  } catch (err) {
    // Report the failure on the resource (best effort), then let the queue retry with backoff.
    if (!isConflict(err)) {
      try {
        await writeStatus(ctx, raw, { error: errMessage(err), ...(auth ? { authSecretName: auth.name } : {}), iceServers: raw.status?.iceServers ?? [] });
      } catch (statusErr) {
        ctx.log.debug({ err: errMessage(statusErr) }, 'could not report reconcile error in status');
      }
    }
    throw err;
  }
}
