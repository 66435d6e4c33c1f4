// Whose object is it? The operator writes only objects whose controller owner
// reference carries this TurnRelay's uid. Anything else with a child's name —
// a user's Service, another relay's ConfigMap, an object whose owner was
// forged — is left exactly as it is and reported as a name conflict.
import type { KubernetesObject } from '@kubernetes/client-node';

export type Ownership = 'absent' | 'ours' | 'foreign';

function controllerRef(obj: KubernetesObject) {
  return (obj.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

export function ownedBy(obj: KubernetesObject, uid: string): boolean {
  return controllerRef(obj)?.uid === uid;
}

export function ownership(live: KubernetesObject | undefined, uid: string): Ownership {
  if (!live) return 'absent';
  return ownedBy(live, uid) ? 'ours' : 'foreign';
}

/** Who controls an object, for messages: "TurnRelay b" or "no controller". */
export function describeController(obj: KubernetesObject): string {
  const ref = controllerRef(obj);
  return ref ? `${ref.kind} ${ref.name}` : 'no controller';
}

export interface NameConflict {
  kind: string;
  name: string;
  controller: string;
}

export function conflictMessage(conflicts: readonly NameConflict[]): string {
  const each = conflicts.map((c) => `${c.kind} ${c.name} (${c.controller})`).join(', ');
  return `${each} already exist${conflicts.length === 1 ? 's' : ''} and ${conflicts.length === 1 ? 'is' : 'are'} not owned by this TurnRelay; nothing is applied until ${conflicts.length === 1 ? 'it is' : 'they are'} removed or the TurnRelay is renamed`;
}
