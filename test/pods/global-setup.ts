// Jest global setup of the pods project: one cluster with a real node per
// Jest worker (test/k8s/harness, `node: true`), building containerd, the
// images and the node binaries first if their inputs changed. Their
// kubeconfigs and network namespaces reach the test workers through the
// environment; env.ts points each file at its worker's cluster. Same
// constraints as test/k8s/global-setup.ts: erasable TypeScript only, harness
// loaded through tsx.
import { tsImport } from 'tsx/esm/api';
import type { ControlPlane } from '../k8s/harness/control-plane.js';
import type { PodsCluster } from './harness/pods-env.js';

declare global {
  var turnrelayPodsClusters: ControlPlane[] | undefined;
}

type ControlPlaneModule = typeof import('../k8s/harness/control-plane.js');
type PodsEnvModule = typeof import('./harness/pods-env.js');

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const { startControlPlane } = (await tsImport(
    '../k8s/harness/control-plane.ts',
    import.meta.url,
  )) as ControlPlaneModule;
  const { PODS_ENV } = (await tsImport('./harness/pods-env.ts', import.meta.url)) as PodsEnvModule;
  const count = Number(process.env[PODS_ENV.nodes] ?? globalConfig.maxWorkers);
  if (!Number.isInteger(count) || count < 1 || count > 4)
    throw new Error(`${PODS_ENV.nodes} must be 1 to 4 (one cluster per Jest worker), not ${String(count)}`);
  const clusters: ControlPlane[] = [];
  globalThis.turnrelayPodsClusters = clusters;
  // One after another: a starting node records the host state the nodes
  // before it changed (host-state.ts), which must not race their start.
  try {
    for (let i = 0; i < count; i += 1) {
      const started = Date.now();
      const cluster = await startControlPlane({ node: true });
      clusters.push(cluster);
      process.stderr.write(
        `\npods tests: node ${cluster.node!.name} (${cluster.node!.netns.name}) Ready in ${Date.now() - started} ms (API ${cluster.server})\n`,
      );
    }
  } catch (error) {
    // Jest runs no teardown after a failed setup: stop the clusters started so far.
    for (const cluster of clusters.reverse()) await cluster.stop().catch(() => undefined);
    globalThis.turnrelayPodsClusters = undefined;
    throw error;
  }
  const handed: PodsCluster[] = clusters.map((cluster) => ({
    kubeconfig: cluster.kubeconfigPath,
    netns: cluster.node!.netns.path,
    nodeIp: cluster.node!.ip,
  }));
  process.env[PODS_ENV.clusters] = JSON.stringify(handed);
}
