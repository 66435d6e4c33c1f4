// The committed CRD file's exact text, shared by the generator script and the
// unit test that fails when the committed file is stale.
import { stringify } from 'yaml';
import { turnRelayCrd } from './crd.js';

export const CRD_FILE = 'crds/turnrelay.dev_turnrelays.yaml';

export function crdYaml(): string {
  const header = '# Generated from operator/api/turnrelay.ts by `npm run generate:crds`. Do not edit.\n';
  return header + stringify(turnRelayCrd(), { lineWidth: 0 });
}
