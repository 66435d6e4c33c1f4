// What the pods tests read about relay pods and the calls they carry.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { CallProgress } from '../../interop/harness/chromium.js';

/** The namespace's pods that are not terminating. */
export async function livePods(core: CoreV1Api, namespace: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace })).items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

export const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Both ends of a call moved data since the previous sample, and ICE still holds. */
export function expectFlowing(now: CallProgress, before: CallProgress, what: string, sinceMs: number): void {
  const up = (state: string) => state === 'connected' || state === 'completed';
  // `what` carries the numbers, so a failure shows where the call stood.
  const where = `${what}, ${Math.round(sinceMs / 1000)} s into the drain: echoed ${before.echoed} -> ${now.echoed} of ${now.sent}, ice ${now.ice.a}/${now.ice.b}`;
  expect({
    where,
    error: now.error,
    up: up(now.ice.a) && up(now.ice.b),
    echoedMore: now.echoed > before.echoed,
  }).toEqual({ where, error: undefined, up: true, echoedMore: true });
}
