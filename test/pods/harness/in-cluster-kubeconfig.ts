// Kubeconfig files for components that the pods tests run as processes in the
// node's network namespace instead of as pods (cert-manager, metrics-server):
// a ServiceAccount's token, and the API server at the kubernetes Service's
// cluster IP, the address a pod would use (kube-proxy routes it there).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { kubeConfigForServiceAccount } from '../../k8s/harness/cluster.js';
import { writeKubeconfig } from '../../k8s/harness/kubeconfig-file.js';

/** Writes `path` (owner-only) for ServiceAccount namespace/name. */
export async function writeInClusterKubeconfig(
  path: string,
  namespace: string,
  name: string,
  options: { admin: KubeConfig; expirationSeconds?: number },
): Promise<void> {
  const account = await kubeConfigForServiceAccount(namespace, name, options);
  const kubernetes = await options.admin
    .makeApiClient(CoreV1Api)
    .readNamespacedService({ name: 'kubernetes', namespace: 'default' });
  await writeKubeconfig(path, {
    server: `https://${kubernetes.spec!.clusterIP!}:443`,
    caPem: Buffer.from(options.admin.getCurrentCluster()!.caData!, 'base64').toString('utf8'),
    user: `system:serviceaccount:${namespace}:${name}`,
    token: account.getCurrentUser()!.token!,
    namespace,
  });
}
