// An informer cache overlaid with the objects this process just wrote.
// Watch events arrive a little after our own writes; without the overlay a
// reconcile triggered in between would see the old object and write again,
// so a steady state would not be quiet.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from './informer.js';

function rv(o: KubernetesObject | undefined): number {
  const n = Number(o?.metadata?.resourceVersion);
  return Number.isFinite(n) ? n : -1;
}

export class LatestView<T extends KubernetesObject> {
  private readonly written = new Map<string, T>();

  constructor(readonly informer: Informer<T>) {}

  private key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  get(name: string, namespace?: string): T | undefined {
    const cached = this.informer.get(name, namespace);
    const k = this.key(namespace, name);
    const mine = this.written.get(k);
    if (!mine) return cached;
    // etcd resource versions are increasing integers; the newer object wins.
    if (cached && rv(cached) >= rv(mine)) {
      this.written.delete(k);
      return cached;
    }
    return mine;
  }

  remember(obj: T): void {
    const name = obj.metadata?.name;
    if (name) this.written.set(this.key(obj.metadata?.namespace, name), obj);
  }

  forget(name: string, namespace?: string): void {
    this.written.delete(this.key(namespace, name));
  }

  /** Informer contents (the overlay only matters for single-object reads right after a write). */
  list(namespace?: string): T[] {
    return this.informer.list(namespace);
  }
}
