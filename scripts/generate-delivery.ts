// `npm run generate:chart|docs|manifests` (or all three without arguments):
// writes the delivery files derived from the CRD, operator/rbac.ts, the zod
// schema and the chart. See scripts/delivery/generated-files.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles, type Generator } from './delivery/generated-files.js';
import { REPO_ROOT } from './delivery/helm.js';

const KNOWN: Generator[] = ['chart', 'docs', 'manifests'];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !KNOWN.includes(w as Generator));
if (unknown.length > 0) {
  process.stderr.write(`generate-delivery: unknown generator(s) ${unknown.join(', ')}; expected ${KNOWN.join(', ')}\n`);
  process.exit(2);
}
for (const file of generatedFiles()) {
  if (wanted.length > 0 && !wanted.includes(file.generator)) continue;
  const target = join(REPO_ROOT, file.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.render());
  process.stdout.write(`wrote ${file.path}\n`);
}
