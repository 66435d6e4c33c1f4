// How the pods project's global setup hands its clusters to the test files.
// It starts one cluster with a real node per Jest worker (each in its own
// network namespace), so files on different workers never share a node, and
// files on one worker run one after another on that worker's cluster, as the
// files expect (one of them reinstalls the operator, several expose host ports
// on the node).
export const PODS_ENV = {
  /** JSON list of PodsCluster, one per worker, set by the global setup. */
  clusters: 'TURNRELAY_PODS_CLUSTERS',
  /** How many clusters to start (default: Jest's worker count). */
  nodes: 'TURNRELAY_PODS_NODES',
} as const;

export interface PodsCluster {
  kubeconfig: string;
  /** /run/netns/NAME of the node. */
  netns: string;
  nodeIp: string;
}

/**
 * The cluster of the Jest worker this file runs on (JEST_WORKER_ID counts
 * from 1; a run in band is worker 1).
 */
export function clusterOfWorker(env: NodeJS.ProcessEnv = process.env): PodsCluster | undefined {
  const list = env[PODS_ENV.clusters];
  if (!list) return undefined;
  const clusters = JSON.parse(list) as PodsCluster[];
  const worker = Number(env.JEST_WORKER_ID ?? '1');
  const cluster = clusters[worker - 1];
  if (!cluster)
    throw new Error(
      `pods tests: Jest worker ${worker} has no cluster (the global setup started ${clusters.length}); ` +
        `start as many as there are workers with ${PODS_ENV.nodes}, or run with --maxWorkers=${clusters.length}`,
    );
  return cluster;
}

function workerCluster(): PodsCluster {
  const cluster = clusterOfWorker();
  if (!cluster)
    throw new Error(
      `${PODS_ENV.clusters} is not set: pod tests run in the 'pods' Jest project, whose global setup starts the nodes`,
    );
  return cluster;
}

/** The node's network namespace (/run/netns/NAME): test clients run inside it. */
export const nodeNetns = (): string => workerCluster().netns;
/** The node's InternalIP. */
export const nodeIp = (): string => workerCluster().nodeIp;
