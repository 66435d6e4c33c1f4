// Loads operator/samples/*.yaml for the unit and API-server tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateTurnRelay } from '../../../../operator/api/validate.js';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { TurnRelay, TurnRelaySpecInput } from '../../../../operator/api/turnrelay.js';

export const SAMPLES_DIR = join(process.cwd(), 'operator', 'samples');

/** A TurnRelay as written by a user: the spec before defaults. */
export interface TurnRelayManifest {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: TurnRelaySpecInput;
}

export type Sample = { file: string; manifest: TurnRelayManifest };

export function loadSamples(): Sample[] {
  return (
    readdirSync(SAMPLES_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      // Each sample is a TurnRelay manifest: api-validate.test.ts checks that.
      .map((file) => ({ file, manifest: parse(readFileSync(join(SAMPLES_DIR, file), 'utf8')) as TurnRelayManifest }))
  );
}

export function loadSample(file: string): Sample {
  const sample = loadSamples().find((s) => s.file === file);
  if (!sample) throw new Error(`no sample ${file}`);
  return sample;
}

/** A validated TurnRelay as the operator would see it from the API server. */
export function asRelay(
  manifest: TurnRelayManifest,
  namespace = 'media',
  uid = '7c1f3a52-0000-4000-8000-000000000001',
): TurnRelay {
  const obj = structuredClone(manifest);
  obj.metadata = { ...obj.metadata, namespace, uid };
  const result = validateTurnRelay(obj);
  if (!result.ok) throw new Error(`invalid: ${JSON.stringify(result.issues)}`);
  return result.relay;
}

/** A sample file as a validated TurnRelay (see asRelay). */
export function sampleRelay(file: string): TurnRelay {
  return asRelay(loadSample(file).manifest);
}
