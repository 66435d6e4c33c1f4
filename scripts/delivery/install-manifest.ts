// deploy/install.yaml: the chart rendered with `helm template` for users who
// apply plain manifests (kubectl, GitOps). Fixed release name and namespace,
// and the chart has no random names or timestamps, so the output is stable.
import { CHART_DIR, helm } from './helm.js';

export const INSTALL_FILE = 'deploy/install.yaml';
export const INSTALL_RELEASE = 'turnrelay-operator';
export const INSTALL_NAMESPACE = 'turnrelay-system';

export function renderInstallManifest(version: string): string {
  const rendered = helm([
    'template',
    INSTALL_RELEASE,
    CHART_DIR,
    '--namespace',
    INSTALL_NAMESPACE,
    '--include-crds',
    '--set',
    'createNamespace=true',
  ]);
  const header = [
    `# TurnRelay operator ${version}: CRD, namespace ${INSTALL_NAMESPACE}, RBAC and the operator Deployment.`,
    `# Generated from ${CHART_DIR} by \`npm run generate:manifests\`. Do not edit.`,
    '# Install or upgrade: kubectl apply --server-side -f deploy/install.yaml',
    '',
  ].join('\n');
  return header + rendered;
}
