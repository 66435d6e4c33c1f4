// The TurnRelay controller: informers feed a work queue, workers run one
// reconcile per key, results drive backoff and timed requeues. It runs only
// while this instance may write (leader, or no leader election).
import { randomBytes } from 'node:crypto';
import type {
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1EndpointSlice,
  V1Node,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';
import type { CertificateObject, ChildCache, RawTurnRelay, ReconcileContext } from '../reconcile/context.js';
import { allowedServiceKeys, nodeAddresses, SERVICE_NAME_LABEL } from '../reconcile/observe.js';
import { reconcileRelay } from '../reconcile/reconcile-relay.js';
import { AUTH_SECRET_LABELS, RELAY_LABEL, labelSelector } from '../render/names.js';
import type { EventRecorder } from './events.js';
import { Informer, type InformerEvent } from './informer.js';
import { NamedWatches } from './named-watches.js';
import type { KubeRest } from './kube-rest.js';
import { LatestView } from './latest-view.js';
import type { OperatorMetrics } from './metrics.js';
import {
  CERTIFICATE_KIND,
  CHILD_KINDS,
  ENDPOINTSLICE_KIND,
  NODE_KIND,
  OPTIONAL_CHILD_KINDS,
  PODMONITOR_KIND,
  PROMETHEUSRULE_KIND,
  SECRET_KIND,
  TURNRELAY_KIND,
  kindKey,
  type ResourceKind,
} from './resources.js';
const SERVICE_KIND = CHILD_KINDS.find((k) => k.kind === 'Service')!;
const DEPLOYMENT_KIND = CHILD_KINDS.find((k) => k.kind === 'Deployment')!;
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

export class NotLeaderError extends Error {
  constructor() {
    super('this operator instance is not the leader; not writing');
    this.name = 'NotLeaderError';
  }
}

export interface ControllerOptions {
  kc: KubeConfig;
  rest: KubeRest;
  namespace?: string;
  image: string;
  workers: number;
  resyncMs: number;
  informerRestartBaseMs: number;
  queue: WorkQueueOptions;
  now: () => number;
  mayWrite: () => boolean;
  recorder: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
}

/** What the controller does with any informer, whatever it caches. */
interface Running {
  readonly name: string;
  start(): Promise<void>;
  stop(): void;
}

export class Controller {
  private readonly queue: WorkQueue;
  private readonly informers: Running[] = [];
  private readonly children = new Map<string, ChildCache>();
  private relays!: LatestView<RawTurnRelay>;
  private services!: LatestView<V1Service>;
  private deployments!: LatestView<V1Deployment>;
  private endpointSlices!: LatestView<V1EndpointSlice>;
  private nodes!: LatestView<V1Node>;
  private certificates: LatestView<CertificateObject> | undefined;
  /** Optional child kinds (kindKey) the API server serves; their informers run from then on. */
  private readonly served = new Set<string>();
  private readonly nodeAddressCache = new Map<string, string>();
  private readonly namedSecrets = new NamedWatches<V1Secret>((namespace, name) =>
    this.newInformer<V1Secret>(SECRET_KIND, (_e, o) => this.onNamedSecret(o), {
      namespace,
      fieldSelector: `metadata.name=${name}`,
    }),
  );
  private resyncTimer: NodeJS.Timeout | undefined;
  private workers: Promise<void>[] = [];
  private stopping = false;
  synced = false;

  constructor(private readonly opts: ControllerOptions) {
    this.queue = new WorkQueue(opts.queue);
  }

  private newInformer<T extends KubernetesObject>(
    resource: ResourceKind,
    onEvent: (e: InformerEvent, o: T) => void,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string },
  ): Informer<T> {
    return new Informer<T>({
      kc: this.opts.kc,
      rest: this.opts.rest,
      resource,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
      onEvent,
      log: this.opts.log,
      restartBaseMs: this.opts.informerRestartBaseMs,
    });
  }

  private informer<T extends KubernetesObject>(
    resource: ResourceKind,
    onEvent: (e: InformerEvent, o: T) => void,
    opts: { labelSelector?: string; clusterWide?: boolean } = {},
  ): LatestView<T> {
    const inf = this.newInformer<T>(
      resource,
      (e, o) => {
        if (e === 'delete') view.forget(o.metadata?.name ?? '', o.metadata?.namespace);
        onEvent(e, o);
      },
      {
        ...(this.opts.namespace && !opts.clusterWide ? { namespace: this.opts.namespace } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      },
    );
    const view = new LatestView(inf);
    this.informers.push(inf);
    return view;
  }

  private enqueueObject = (o: KubernetesObject): void => {
    if (o.metadata?.name && o.metadata.namespace) this.queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
  };

  private onRelay = (e: InformerEvent, o: KubernetesObject): void => {
    if (e === 'delete') {
      // Its children go with the garbage collector; nothing of it stays queued or timed.
      this.queue.cancel(`${o.metadata?.namespace}/${o.metadata?.name}`);
    } else {
      this.enqueueObject(o);
    }
    this.syncNamedSecrets();
  };

  /**
   * A child changed: its owner looks again, and so does every relay whose
   * children could carry its name — an owner reference or label can be forged,
   * and the relay that really needs the object must hear of it at once.
   */
  private enqueueOwner = (_e: InformerEvent, o: KubernetesObject): void => {
    const ns = o.metadata?.namespace;
    if (!ns) return;
    const owner = o.metadata?.ownerReferences?.find(
      (r) => r.controller && r.kind === TURNRELAY_KIND.kind && r.apiVersion === TURNRELAY_KIND.apiVersion,
    );
    for (const name of [owner?.name, o.metadata?.labels?.[RELAY_LABEL]]) if (name) this.queue.add(`${ns}/${name}`);
    const objName = o.metadata?.name ?? '';
    this.enqueueAll(
      (r) => r.metadata?.namespace === ns && (objName === r.metadata.name || objName.startsWith(`${r.metadata.name}-`)),
    );
  };

  private onNamedSecret(secret: KubernetesObject): void {
    const ns = secret.metadata?.namespace;
    const name = secret.metadata?.name ?? '';
    this.enqueueAll((r) => r.metadata?.namespace === ns && referencedSecrets(r).includes(name));
  }

  /** One watch per Secret a relay names (TLS key pair, user-supplied auth Secret). */
  private syncNamedSecrets(): void {
    if (this.stopping) return;
    const wanted = new Set<string>();
    for (const r of this.relays.list())
      for (const name of referencedSecrets(r)) wanted.add(NamedWatches.key(r.metadata!.namespace!, name));
    this.namedSecrets.sync(wanted);
  }

  private enqueueAll(filter: (relay: RawTurnRelay) => boolean = () => true): void {
    for (const r of this.relays.list()) if (filter(r)) this.enqueueObject(r);
  }

  private onEndpointSlice = (_e: InformerEvent, slice: KubernetesObject): void => {
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) return;
    const key = `${slice.metadata?.namespace}/${svc}`;
    this.enqueueAll((r) => allowedServiceKeys(r).includes(key));
  };

  private onNode = (e: InformerEvent, node: V1Node): void => {
    // Node objects change constantly (heartbeats); only address changes matter.
    const name = node.metadata?.name ?? '';
    const addrs = e === 'delete' ? '' : nodeAddresses([node]).join(',');
    if (this.nodeAddressCache.get(name) === addrs) return;
    if (e === 'delete') this.nodeAddressCache.delete(name);
    else this.nodeAddressCache.set(name, addrs);
    this.enqueueAll((r) => (r.spec as { network?: { mode?: unknown } } | undefined)?.network?.mode === 'HostNetwork');
  };

  /** Finds which optional CRDs (cert-manager, Prometheus Operator) are served and starts watching their kinds. */
  private async detectOptionalKinds(): Promise<void> {
    let started = false;
    for (const apiVersion of new Set(OPTIONAL_CHILD_KINDS.map((k) => k.apiVersion))) {
      let names: string[];
      try {
        const res = await this.opts.rest.find<{ resources?: Array<{ name: string }> }>(`/apis/${apiVersion}`);
        names = (res?.resources ?? []).map((r) => r.name);
      } catch (err) {
        this.opts.log.warn(
          { apiVersion, err: err instanceof Error ? err.message : String(err) },
          'could not check for an optional API',
        );
        continue;
      }
      for (const kind of OPTIONAL_CHILD_KINDS.filter((k) => k.apiVersion === apiVersion && names.includes(k.plural))) {
        if (this.served.has(kindKey(kind))) continue;
        this.served.add(kindKey(kind));
        const view =
          kind === CERTIFICATE_KIND
            ? (this.certificates = this.informer<CertificateObject>(kind, this.enqueueOwner, {
                labelSelector: RELAY_LABEL,
              }))
            : this.informer(kind, this.enqueueOwner, { labelSelector: RELAY_LABEL });
        this.children.set(kindKey(kind), { kind, view });
        await view.informer.start();
        started = true;
      }
    }
    if (started && this.synced) this.enqueueAll();
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    this.relays = this.informer<RawTurnRelay>(TURNRELAY_KIND, this.onRelay);
    this.services = this.informer<V1Service>(SERVICE_KIND, this.enqueueOwner, { labelSelector: RELAY_LABEL });
    this.deployments = this.informer<V1Deployment>(DEPLOYMENT_KIND, this.enqueueOwner, { labelSelector: RELAY_LABEL });
    for (const kind of CHILD_KINDS) {
      if (OPTIONAL_CHILD_KINDS.includes(kind)) continue; // started once their CRD is found
      const view =
        kind === SERVICE_KIND
          ? this.services
          : kind === DEPLOYMENT_KIND
            ? this.deployments
            : this.informer(kind, this.enqueueOwner, { labelSelector: RELAY_LABEL });
      this.children.set(kindKey(kind), { kind, view });
    }
    // Auth Secrets carry no relay label (so pruning can never reach them); a deleted one is recreated via its owner.
    this.informer(SECRET_KIND, this.enqueueOwner, { labelSelector: labelSelector(AUTH_SECRET_LABELS) });
    this.endpointSlices = this.informer<V1EndpointSlice>(ENDPOINTSLICE_KIND, this.onEndpointSlice, {
      clusterWide: true,
    });
    this.nodes = this.informer<V1Node>(NODE_KIND, this.onNode, { clusterWide: true });
    await this.detectOptionalKinds();
    await Promise.all(this.informers.map((i) => i.start()));
    if (this.stopping) return;
    this.synced = true;
    this.syncNamedSecrets();
    log.info({ informers: this.informers.map((i) => i.name) }, 'caches synced; starting workers');
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
    this.enqueueAll();
    const resync = () => {
      void this.detectOptionalKinds().then(() => this.enqueueAll());
      this.resyncTimer = setTimeout(resync, this.opts.resyncMs);
      this.resyncTimer.unref();
    };
    this.resyncTimer = setTimeout(resync, this.opts.resyncMs);
    this.resyncTimer.unref();
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get queueDelayed(): number {
    return this.queue.delayedCount;
  }

  private context(): ReconcileContext {
    const o = this.opts;
    return {
      rest: o.rest,
      relays: this.relays,
      children: this.children,
      services: this.services,
      deployments: this.deployments,
      certificates: () => this.certificates,
      endpointSlices: this.endpointSlices,
      nodes: this.nodes,
      certManagerInstalled: () => this.served.has(kindKey(CERTIFICATE_KIND)),
      prometheusOperatorInstalled: () =>
        this.served.has(kindKey(PODMONITOR_KIND)) && this.served.has(kindKey(PROMETHEUSRULE_KIND)),
      image: o.image,
      now: o.now,
      newSecret: () => randomBytes(32).toString('base64url'),
      assertMayWrite: () => {
        if (this.stopping || !o.mayWrite()) throw new NotLeaderError();
      },
      event: async (target, type, reason, message) => {
        if (this.stopping || !o.mayWrite()) return;
        await o.recorder.record(
          {
            apiVersion: target.apiVersion ?? TURNRELAY_KIND.apiVersion,
            kind: target.kind ?? TURNRELAY_KIND.kind,
            name: target.metadata!.name!,
            namespace: target.metadata!.namespace!,
            ...(target.metadata?.uid ? { uid: target.metadata.uid } : {}),
          },
          type,
          reason,
          message,
        );
      },
      metrics: o.metrics,
      log: o.log,
    };
  }

  private async work(): Promise<void> {
    const ctx = this.context();
    const { metrics, log } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const [namespace, name] = key.split('/') as [string, string];
      const end = metrics.duration.startTimer();
      try {
        const out = await reconcileRelay(ctx, namespace, name);
        if (out.result === 'gone') this.queue.cancel(key);
        else this.queue.forget(key);
        metrics.reconciles.inc({ result: out.result });
        if (out.requeueAfterMs !== undefined) this.queue.addAfter(key, out.requeueAfterMs);
      } catch (err) {
        metrics.reconciles.inc({ result: 'error' });
        if (!(err instanceof NotLeaderError)) {
          metrics.errors.inc();
          const retryInMs = this.queue.addRateLimited(key);
          log.warn(
            { relay: key, err: err instanceof Error ? err.message : String(err), retryInMs },
            'reconcile failed',
          );
        }
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  /** Stops taking work, lets in-flight reconciles finish, and closes the watches. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers);
    for (const i of this.informers) i.stop();
    this.namedSecrets.stop();
  }
}

/** Secrets a relay names that carry no label of ours: its TLS key pair and a user-supplied auth Secret. */
export function referencedSecrets(relay: RawTurnRelay): string[] {
  const spec = relay.spec as { tls?: { secretName?: unknown }; auth?: { secretRef?: { name?: unknown } } } | undefined;
  const out: string[] = [];
  if (spec?.tls)
    out.push(typeof spec.tls.secretName === 'string' ? spec.tls.secretName : `${relay.metadata?.name}-tls`);
  if (typeof spec?.auth?.secretRef?.name === 'string') out.push(spec.auth.secretRef.name);
  return out;
}
