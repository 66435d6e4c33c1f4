// Jest global teardown of the k8s project: stops the control plane started by
// global-setup.ts and removes its temp dir (data, logs, credentials).
import type {} from './global-setup.js'; // its `declare global` types the handle

export default async function globalTeardown(): Promise<void> {
  const controlPlane = globalThis.turnrelayControlPlane;
  globalThis.turnrelayControlPlane = undefined;
  await controlPlane?.stop();
}
