// Watches for objects the user names in a TurnRelay (a TLS Secret, an auth
// Secret) that carry none of our labels: one field-selected watch per name in
// use, started when the first relay names it and stopped when the last one
// stops, so a fixed Secret is noticed in seconds without caching every Secret.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from './informer.js';

export class NamedWatches<T extends KubernetesObject> {
  private readonly watches = new Map<string, Informer<T>>();

  constructor(private readonly start: (namespace: string, name: string) => Informer<T>) {}

  static key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  /** Makes the set of watched names exactly `wanted` (keys from NamedWatches.key). */
  sync(wanted: ReadonlySet<string>): void {
    for (const [key, informer] of this.watches) {
      if (wanted.has(key)) continue;
      informer.stop();
      this.watches.delete(key);
    }
    for (const key of wanted) {
      if (this.watches.has(key)) continue;
      const slash = key.indexOf('/');
      const informer = this.start(key.slice(0, slash), key.slice(slash + 1));
      this.watches.set(key, informer);
      void informer.start();
    }
  }

  get size(): number {
    return this.watches.size;
  }

  stop(): void {
    for (const informer of this.watches.values()) informer.stop();
    this.watches.clear();
  }
}
