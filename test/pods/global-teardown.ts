// Jest global teardown of the pods project: stops the cluster and its node
// (pods, containerd, kubelet, namespace, cgroups, mounts, temp dir).
import type {} from './global-setup.js'; // its `declare global` types the handle

export default async function globalTeardown(): Promise<void> {
  const cluster = globalThis.turnrelayPodsCluster;
  globalThis.turnrelayPodsCluster = undefined;
  await cluster?.stop();
}
