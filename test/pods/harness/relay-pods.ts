// What the pods tests read about relay pods and the calls they carry.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { CallProgress, TurnCall } from '../../interop/harness/chromium.js';
import { waitFor, waitForCondition } from '../../k8s/operator-fixtures.js';
import type { KubeRest } from '../../../operator/runtime/kube-rest.js';
import { relayAllocations } from './relay-clients.js';

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

/**
 * Samples every call each `sampleMs` until `holdMs` have passed since
 * `sinceMs` (a Date.now() value), expecting each one flowing at every sample.
 */
export async function expectCallsFlowing(
  calls: readonly TurnCall[],
  label: (index: number) => string,
  sinceMs: number,
  holdMs: number,
  sampleMs: number,
): Promise<void> {
  const progress = () => Promise.all(calls.map((call) => call.progress()));
  let last = await progress();
  while (Date.now() - sinceMs < holdMs) {
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const now = await progress();
    now.forEach((call, i) => expectFlowing(call, last[i]!, label(i), Date.now() - sinceMs));
    last = now;
  }
}

/** Waits until a draining relay pod is gone; the timeout's message says how many allocations it still held. */
export async function waitForDrainedPodGone(
  core: CoreV1Api,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    'the drained pod gone',
    async () => {
      const pod = await core.readNamespacedPod({ namespace, name }).catch(() => undefined);
      if (!pod) return true;
      const left = await relayAllocations(namespace, name).catch((error: unknown) => String(error));
      throw new Error(`${name} still there with ${left} allocation(s)`);
    },
    timeoutMs,
    500,
  );
}
