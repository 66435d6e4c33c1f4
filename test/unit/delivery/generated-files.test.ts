// Every generated delivery file (chart CRDs, chart RBAC, Chart.yaml version,
// API reference, deploy/install.yaml) must match what its generator produces
// from the current sources; otherwise the committed copy is stale.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_CRD_DIR, sourceCrdFiles } from '../../../scripts/delivery/chart-files.js';
import { GENERATE_COMMAND, generatedFiles } from '../../../scripts/delivery/generated-files.js';
import { REPO_ROOT, helmBinary } from '../../../scripts/delivery/helm.js';

// The first helm call on a fresh machine compiles helm (CI builds it earlier).
beforeAll(() => {
  helmBinary();
}, 15 * 60_000);

describe('generated delivery files are in sync with their sources', () => {
  for (const file of generatedFiles()) {
    test(file.path, () => {
      const committed = readFileSync(join(REPO_ROOT, file.path), 'utf8');
      const expected = file.render();
      if (committed !== expected) {
        throw new Error(`${file.path} is stale: run \`${GENERATE_COMMAND[file.generator]}\` and commit the result`);
      }
    });
  }

  test('the chart ships exactly the CRDs in crds/', () => {
    const shipped = readdirSync(join(REPO_ROOT, CHART_CRD_DIR)).sort();
    expect(shipped).toEqual(sourceCrdFiles());
    expect(shipped.length).toBeGreaterThan(0);
  });
});
