// Kubeconfig files for the test control plane: one cluster (the API server's
// self-signed CA), one bearer-token user, one context. kubectl, the operator
// and @kubernetes/client-node all read them.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigParts {
  server: string;
  caPem: string;
  user: string;
  token: string;
  namespace?: string;
}

export const KUBECONFIG_CONTEXT = 'turnrelay-test';

export function kubeconfigObject(parts: KubeconfigParts): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: KUBECONFIG_CONTEXT,
        cluster: { server: parts.server, 'certificate-authority-data': Buffer.from(parts.caPem).toString('base64') },
      },
    ],
    users: [{ name: parts.user, user: { token: parts.token } }],
    contexts: [
      {
        name: KUBECONFIG_CONTEXT,
        context: {
          cluster: KUBECONFIG_CONTEXT,
          user: parts.user,
          ...(parts.namespace ? { namespace: parts.namespace } : {}),
        },
      },
    ],
    'current-context': KUBECONFIG_CONTEXT,
  };
}

/** Writes the kubeconfig readable by the owner only: it holds a bearer token. */
export async function writeKubeconfig(path: string, parts: KubeconfigParts): Promise<void> {
  await writeFile(path, stringify(kubeconfigObject(parts)), { mode: 0o600 });
}
