// What the pods tests read about relay pods and the calls they carry.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { CallProgress } from '../../interop/harness/chromium.js';
import { waitForCondition } from '../../k8s/operator-fixtures.js';
import type { KubeRest } from '../../../operator/runtime/kube-rest.js';

/** Waits until the operator reports the TurnRelay Ready (its pods started and passing their probes). */
export async function waitForRelayReady(rest: KubeRest, namespace: string, name: string): Promise<void> {
  await waitForCondition(rest, namespace, name, 'Ready', 'True', undefined, 180_000);
}

/** A kubernetes.io/tls Secret for a key pair, as JSON for applyYaml. */
export function tlsSecretJson(namespace: string, name: string, pair: { certPem: string; keyPem: string }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace },
    stringData: { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem },
  });
}

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
