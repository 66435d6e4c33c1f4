// How the pods project's global setup hands its cluster to the test files.
export const PODS_ENV = {
  kubeconfig: 'TURNRELAY_PODS_KUBECONFIG',
  netns: 'TURNRELAY_PODS_NETNS',
  nodeIp: 'TURNRELAY_PODS_NODE_IP',
  binDir: 'TURNRELAY_PODS_BIN_DIR',
} as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: pod tests run in the 'pods' Jest project, whose global setup starts the node`);
  return value;
}

/** The node's network namespace (/run/netns/NAME): test clients run inside it. */
export const nodeNetns = (): string => required(PODS_ENV.netns);
/** The node's InternalIP. */
export const nodeIp = (): string => required(PODS_ENV.nodeIp);
