// Kubernetes-style conditions: setting one keeps its lastTransitionTime when
// its status did not change, so "Ready since" stays meaningful across
// reconciles and an unchanged status produces no patch.
import type { TurnRelayCondition } from '../api/turnrelay.js';

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'CertificateReady' | 'Reconciling' | 'Stalled';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function toCondition(
  input: ConditionInput,
  previous: readonly TurnRelayCondition[] | undefined,
  generation: number | undefined,
  now: string,
): TurnRelayCondition {
  const prev = previous?.find((c) => c.type === input.type);
  const lastTransitionTime =
    prev && prev.status === input.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  return { ...input, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}
