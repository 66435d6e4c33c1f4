// A control plane of the test file's own, for tests that change cluster-wide
// state (CRDs, an API server restart) and so cannot share the project's.
// `cp`, `kc` and `rest` are live bindings, valid inside tests; `setUp` runs
// once they exist, `tearDown` before the client closes and the control
// plane stops.
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { adminRest } from './operator-fixtures.js';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';

export let cp: ControlPlane;
export let kc: KubeConfig;
export let rest: KubeRest;

export function useOwnControlPlane(hooks: { setUp?: () => Promise<void>; tearDown?: () => Promise<void> } = {}): void {
  beforeAll(async () => {
    cp = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    rest = await adminRest(kc);
    await hooks.setUp?.();
  }, 180_000);
  afterAll(async () => {
    await hooks.tearDown?.();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed first
    rest?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
    await cp?.stop();
  });
}
