// Every delivery file generated from another source of truth, in the order
// they must be written (the install manifest renders the chart from disk).
// scripts/generate-delivery.ts writes them; test/unit/delivery fails when a
// committed copy differs, naming the command that fixes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_CRD_DIR, CHART_YAML, packageVersion, renderChartYaml, sourceCrdFiles } from './chart-files.js';
import { CHART_RBAC_FILE, chartRbacYaml } from './chart-rbac.js';
import { REPO_ROOT } from './helm.js';
import { INSTALL_FILE, renderInstallManifest } from './install-manifest.js';
import { REFERENCE_FILE, renderReference } from './reference-doc.js';

export type Generator = 'chart' | 'docs' | 'manifests';
export type GeneratedFile = { path: string; generator: Generator; render(): string };

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

export function generatedFiles(): GeneratedFile[] {
  return [
    { path: CHART_YAML, generator: 'chart', render: () => renderChartYaml(read(CHART_YAML), packageVersion()) },
    ...sourceCrdFiles().map((name): GeneratedFile => ({
      path: `${CHART_CRD_DIR}/${name}`,
      generator: 'chart',
      render: () => read(`crds/${name}`),
    })),
    { path: CHART_RBAC_FILE, generator: 'chart', render: chartRbacYaml },
    { path: REFERENCE_FILE, generator: 'docs', render: renderReference },
    { path: INSTALL_FILE, generator: 'manifests', render: () => renderInstallManifest(packageVersion()) },
  ];
}

export const GENERATE_COMMAND: Record<Generator, string> = {
  chart: 'npm run generate:chart',
  docs: 'npm run generate:docs',
  manifests: 'npm run generate:manifests',
};
