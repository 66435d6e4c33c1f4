// Which live children are no longer wanted: labelled for this relay, owned by
// it (controller reference with its uid, so a user's look-alike object is
// never touched) and not in the rendered set.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ownedBy } from '../render/ownership.js';

function childId(kind: string | undefined, name: string | undefined): string {
  return `${kind ?? ''}/${name ?? ''}`;
}

export function unwantedChildren<T extends { kind: string; obj: KubernetesObject }>(
  live: readonly T[],
  desired: readonly KubernetesObject[],
  relayUid: string,
): T[] {
  const want = new Set(desired.map((o) => childId(o.kind, o.metadata?.name)));
  return live.filter(
    ({ kind, obj }) =>
      ownedBy(obj, relayUid) && !want.has(childId(kind, obj.metadata?.name)) && !obj.metadata?.deletionTimestamp,
  );
}
