// TurnRelays from examples/ as the pod tests run them: the example's own spec,
// adapted only where the test node differs from a production cluster.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../../scripts/delivery/helm.js';
import { applyYaml } from '../../k8s/delivery-kubectl.js';
import { nodeIp } from './pods-env.js';

/**
 * Applies the TurnRelay of examples/<file> as `name` in `namespace`, with one
 * replica (one node), the echo peer on the node's private address allowed
 * instead of the example's peers, and a short drain.
 */
export async function applyExampleOnTestNode(
  file: string,
  name: string,
  namespace: string,
  fieldManager: string,
  /** Further spec fields this test sets (e.g. resources). */
  spec: Record<string, unknown> = {},
): Promise<void> {
  const example = parseAllDocuments(await readFile(join(REPO_ROOT, 'examples', file), 'utf8'))
    .map((doc) => doc.toJS() as { kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> })
    .find((doc) => doc.kind === 'TurnRelay');
  if (!example) throw new Error(`examples/${file} has no TurnRelay`);
  await applyYaml(
    JSON.stringify({
      ...example,
      metadata: { name, namespace },
      spec: {
        ...example.spec,
        replicas: 1,
        peers: { allowCIDRs: [`${nodeIp()}/32`] },
        drain: { gracePeriod: '5s' },
        ...spec,
      },
    }),
    { fieldManager },
  );
}
