// A watch-backed cache of one resource kind that keeps itself alive.
// @kubernetes/client-node's ListWatch stops for good on any error other than
// "410 Gone" or a client timeout (API server restart, network error, RBAC),
// so we restart it with exponential backoff. `synced` tells readiness probes
// whether the first list has completed.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';
import { exponentialDelay } from './backoff.js';
import type { KubeRest } from './kube-rest.js';
import { collectionPath, type ResourceKind } from './resources.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  rest: KubeRest;
  resource: ResourceKind;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  onEvent(event: InformerEvent, obj: T): void;
  log: Logger;
  restartBaseMs?: number;
  restartMaxMs?: number;
}

export class Informer<T extends KubernetesObject> {
  private lw: ListWatch<T> | undefined;
  private failures = 0;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private firstSync: Promise<void>;
  private resolveFirstSync!: () => void;
  synced = false;

  constructor(private readonly opts: InformerOptions<T>) {
    this.firstSync = new Promise((r) => (this.resolveFirstSync = r));
  }

  get name(): string {
    return this.opts.resource.plural;
  }

  /** Starts listing and watching; resolves when the first list has been loaded (or the informer stopped). */
  start(): Promise<void> {
    const { kc, rest, resource, namespace, labelSelector, fieldSelector } = this.opts;
    const path = collectionPath(resource, namespace);
    const list: ListPromise<T> = () => rest.list<T>(path, { labelSelector, fieldSelector });
    const lw = new ListWatch<T>(path, new Watch(kc), list, false, labelSelector, fieldSelector);
    lw.on('add', (o) => this.opts.onEvent('add', o));
    lw.on('update', (o) => this.opts.onEvent('update', o));
    lw.on('delete', (o) => this.opts.onEvent('delete', o));
    lw.on('error', (err) => this.scheduleRestart(err));
    this.lw = lw;
    void this.run();
    return this.firstSync;
  }

  private async run(): Promise<void> {
    const { lw } = this;
    if (this.stopped || !lw) return;
    const attempt = { failed: false };
    const onError = () => (attempt.failed = true);
    lw.on('error', onError);
    await lw.start().catch((err: unknown) => this.scheduleRestart(err));
    lw.off('error', onError);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the await
    if (!attempt.failed && !this.stopped) {
      this.failures = 0;
      if (!this.synced) {
        this.synced = true;
        this.resolveFirstSync();
      }
    }
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const delay = exponentialDelay(this.failures++, this.opts.restartBaseMs ?? 500, this.opts.restartMaxMs ?? 30_000);
    this.opts.log.warn(
      { resource: this.name, err: err instanceof Error ? err.message : String(err), retryInMs: delay },
      'watch failed; restarting',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.run();
    }, delay);
    this.restartTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    void this.lw?.stop();
    this.resolveFirstSync();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw?.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...(this.lw?.list(namespace) ?? [])];
  }
}
