// Chart files that mirror other sources of truth: the CRDs from crds/ and the
// chart/app version from package.json.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scalar, parseDocument } from 'yaml';
import { CHART_DIR, REPO_ROOT } from './helm.js';

export const CHART_CRD_DIR = `${CHART_DIR}/crds`;
export const CHART_YAML = `${CHART_DIR}/Chart.yaml`;

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The CRD files of crds/, which the chart ships unchanged. */
export function sourceCrdFiles(): string[] {
  return readdirSync(join(REPO_ROOT, 'crds'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** Chart.yaml with version and appVersion set to package.json's version, comments kept. */
export function renderChartYaml(current: string, version: string): string {
  const doc = parseDocument(current);
  if (doc.get('version') === version && doc.get('appVersion') === version) return current;
  doc.set('version', version);
  const appVersion = new Scalar(version);
  appVersion.type = Scalar.QUOTE_DOUBLE;
  doc.set('appVersion', appVersion);
  return doc.toString();
}
