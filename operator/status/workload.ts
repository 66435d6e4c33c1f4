// The replica counts and rollout state of the relay Deployment (HostNetwork
// relays are a Deployment too, spread one pod per node).
export interface WorkloadState {
  desired: number;
  current: number;
  ready: number;
  updated: number;
  /** The workload controller has seen the latest spec. */
  observedLatest: boolean;
  selector?: string;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
}
interface WorkloadObject {
  kind?: string;
  metadata?: { generation?: number };
  spec?: { replicas?: number; selector?: LabelSelector };
  // Counts are read defensively (num): the object may come from a cache of raw JSON.
  status?: { observedGeneration?: number; replicas?: number; readyReplicas?: number; updatedReplicas?: number };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function selectorString(sel: LabelSelector | undefined): string | undefined {
  const labels = Object.entries(sel?.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(',') : undefined;
}

export function workloadState(obj: WorkloadObject): WorkloadState {
  const s = obj.status ?? {};
  const observedLatest = obj.metadata?.generation === undefined || num(s.observedGeneration) >= obj.metadata.generation;
  const selector = selectorString(obj.spec?.selector);
  return {
    desired: obj.spec?.replicas ?? 1,
    current: num(s.replicas),
    ready: num(s.readyReplicas),
    updated: num(s.updatedReplicas),
    observedLatest,
    ...(selector ? { selector } : {}),
  };
}
