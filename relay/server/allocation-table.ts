// All allocations of this relay, by client 5-tuple, with per-user counts for quotas.
import type { Allocation } from './allocation.js';

export class AllocationTable {
  private readonly byClient = new Map<string, Allocation>();
  private readonly perUser = new Map<string, number>();
  private readonly perFamily = { 4: 0, 6: 0 };

  get size(): number {
    return this.byClient.size;
  }

  countFamily(family: 4 | 6): number {
    return this.perFamily[family];
  }

  countForUser(user: string): number {
    return this.perUser.get(user) ?? 0;
  }

  get(clientKey: string): Allocation | undefined {
    return this.byClient.get(clientKey);
  }

  add(a: Allocation): void {
    this.byClient.set(a.client.key, a);
    this.perUser.set(a.user, this.countForUser(a.user) + 1);
    this.perFamily[a.family]++;
  }

  /** Returns false when the allocation was not (or no longer) in the table. */
  remove(a: Allocation): boolean {
    if (this.byClient.get(a.client.key) !== a) return false;
    this.byClient.delete(a.client.key);
    const n = this.countForUser(a.user) - 1;
    if (n > 0) this.perUser.set(a.user, n);
    else this.perUser.delete(a.user);
    this.perFamily[a.family]--;
    return true;
  }

  values(): MapIterator<Allocation> {
    return this.byClient.values();
  }
}
