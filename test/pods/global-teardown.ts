// Jest global teardown of the pods project: stops the clusters and their
// nodes (pods, containerd, kubelet, namespace, cgroups, mounts, temp dir), one
// after another, so the last node to stop puts the host back (host-state.ts).
import type {} from './global-setup.js'; // its `declare global` types the handles

export default async function globalTeardown(): Promise<void> {
  const clusters = globalThis.turnrelayPodsClusters ?? [];
  globalThis.turnrelayPodsClusters = undefined;
  for (const cluster of clusters.reverse()) await cluster.stop();
}
