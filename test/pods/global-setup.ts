// Jest global setup of the pods project: one cluster with a real node for the
// whole run (test/k8s/harness, `node: true`), building containerd, the images
// and the node binaries first if their inputs changed. Its kubeconfig and
// network namespace reach the test workers through the environment; env.ts
// points the k8s helpers at them. Same constraints as test/k8s/global-setup.ts:
// erasable TypeScript only, harness loaded through tsx.
import { tsImport } from 'tsx/esm/api';
import type { ControlPlane } from '../k8s/harness/control-plane.js';

declare global {
  var turnrelayPodsCluster: ControlPlane | undefined;
}

type ControlPlaneModule = typeof import('../k8s/harness/control-plane.js');
type PodsEnvModule = typeof import('./harness/pods-env.js');

export default async function globalSetup(): Promise<void> {
  const { startControlPlane } = (await tsImport(
    '../k8s/harness/control-plane.ts',
    import.meta.url,
  )) as ControlPlaneModule;
  const { PODS_ENV } = (await tsImport('./harness/pods-env.ts', import.meta.url)) as PodsEnvModule;
  const started = Date.now();
  const cluster = await startControlPlane({ node: true });
  globalThis.turnrelayPodsCluster = cluster;
  process.env[PODS_ENV.kubeconfig] = cluster.kubeconfigPath;
  process.env[PODS_ENV.netns] = cluster.node!.netns.path;
  process.env[PODS_ENV.nodeIp] = cluster.node!.ip;
  process.env[PODS_ENV.binDir] = cluster.binDir;
  process.stderr.write(
    `\npods tests: node ${cluster.node!.name} Ready in ${Date.now() - started} ms (API ${cluster.server})\n`,
  );
}
