// Helpers for tests in the k8s Jest project. The project's global setup
// starts one control plane and exports its admin kubeconfig path in
// TURNRELAY_TEST_KUBECONFIG; Jest workers inherit it. Test files may run in
// parallel: each test works in its own namespace, and cluster-scoped objects
// (CRDs, ClusterRoles) must be applied idempotently or given unique names.
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export const TEST_KUBECONFIG_ENV = 'TURNRELAY_TEST_KUBECONFIG';
/** Label on every namespace made by createTestNamespace. */
export const TEST_NAMESPACE_LABEL = 'turnrelay.dev/test';

/** Path of the admin kubeconfig written by the k8s project's global setup. */
export function testKubeconfigPath(): string {
  const path = process.env[TEST_KUBECONFIG_ENV];
  if (!path) {
    throw new Error(
      `${TEST_KUBECONFIG_ENV} is not set: Kubernetes tests run in the 'k8s' Jest project ` +
        `(test/k8s/**/*.test.ts), whose global setup starts the control plane`,
    );
  }
  return path;
}

/** A KubeConfig for the test cluster's system:masters admin. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeconfigPath());
  return kc;
}

/** Creates a namespace named `<prefix>-<random>` and returns its name. */
export async function createTestNamespace(prefix: string, kc: KubeConfig = testKubeConfig()): Promise<string> {
  const stem =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'test';
  const name = `${stem}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } },
  });
  return name;
}

/** Starts deleting a test namespace (the namespace controller finishes it); ignores one already gone. */
export async function deleteTestNamespace(name: string, kc: KubeConfig = testKubeConfig()): Promise<void> {
  try {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}

/**
 * A KubeConfig that authenticates as an existing ServiceAccount, with a token
 * from the TokenRequest API: requests are authorized by RBAC exactly as for a
 * pod running under that account (e.g. the operator under the chart's RBAC).
 * Use `kc.exportConfig()` to write it to a file for a child process.
 */
export async function kubeConfigForServiceAccount(
  namespace: string,
  name: string,
  options: { expirationSeconds?: number; admin?: KubeConfig } = {},
): Promise<KubeConfig> {
  const admin = options.admin ?? testKubeConfig();
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  let token: string | undefined;
  try {
    const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
    });
    token = request.status?.token;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) {
      throw new Error(`ServiceAccount ${namespace}/${name} does not exist (create it before asking for its token)`, {
        cause: error,
      });
    }
    throw error;
  }
  if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);

  const user = `system:serviceaccount:${namespace}:${name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace }],
    currentContext: user,
  });
  return kc;
}
