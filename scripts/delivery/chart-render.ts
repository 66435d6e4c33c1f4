// Renders the chart into plain objects (for tests and the e2e install).
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, helm } from './helm.js';

export type ChartRender = { objects: KubernetesObject[]; text: string };

/** `helm template` with --set-string style overrides; CRDs included on request. */
export function renderChart(
  opts: {
    release?: string;
    namespace?: string;
    set?: Record<string, string | number | boolean>;
    includeCrds?: boolean;
  } = {},
): ChartRender {
  const args = [
    'template',
    opts.release ?? 'turnrelay-operator',
    CHART_DIR,
    '--namespace',
    opts.namespace ?? 'turnrelay-system',
  ];
  if (opts.includeCrds) args.push('--include-crds');
  for (const [key, value] of Object.entries(opts.set ?? {}))
    args.push(typeof value === 'string' ? '--set-string' : '--set', `${key}=${value}`);
  const text = helm(args);
  const objects = parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubernetesObject | null;
    })
    .filter((o): o is KubernetesObject => o !== null && typeof o === 'object');
  return { objects, text };
}
