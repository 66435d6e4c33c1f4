// Jest global setup of the k8s project: one control plane for the whole run
// (building the binaries first if go.mod changed). Runs in Jest's parent
// process, so the env var it sets is inherited by every test worker.
//
// Jest loads global setup with Node's own import (type stripping, no
// ts-jest), which cannot resolve the harness's `.js` specifiers or compile
// its classes, so the harness comes in through tsx. Keep this file to
// erasable TypeScript: type annotations and type-only imports.
import { tsImport } from 'tsx/esm/api';
import type { ControlPlane } from './harness/control-plane.js';

declare global {
  var turnrelayControlPlane: ControlPlane | undefined;
}

type ControlPlaneModule = typeof import('./harness/control-plane.js');
type ClusterModule = typeof import('./harness/cluster.js');

export default async function globalSetup(): Promise<void> {
  const { startControlPlane } = (await tsImport('./harness/control-plane.ts', import.meta.url)) as ControlPlaneModule;
  const { TEST_KUBECONFIG_ENV } = (await tsImport('./harness/cluster.ts', import.meta.url)) as ClusterModule;
  const started = Date.now();
  const controlPlane = await startControlPlane();
  globalThis.turnrelayControlPlane = controlPlane;
  process.env[TEST_KUBECONFIG_ENV] = controlPlane.kubeconfigPath;
  process.stderr.write(`\nk8s tests: control plane at ${controlPlane.server} ready in ${Date.now() - started} ms\n`);
}
