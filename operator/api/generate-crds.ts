// `npm run generate:crds`: writes the TurnRelay CRD generated from the zod schema.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CRD_FILE, crdYaml } from './crd-yaml.js';

const target = resolve(import.meta.dirname, '../..', CRD_FILE);
writeFileSync(target, crdYaml());
process.stdout.write(`wrote ${CRD_FILE}\n`);
