// Per test file of the pods project (Jest gives each file its own copy of
// process.env): the k8s helpers (testKubeConfig, kubectl, namespaces) and the
// pods helpers talk to the cluster of this file's Jest worker instead of the
// k8s project's control plane.
import { TEST_KUBECONFIG_ENV } from '../k8s/harness/cluster.js';
import { clusterOfWorker, PODS_ENV } from './harness/pods-env.js';

const cluster = clusterOfWorker();
if (cluster) {
  process.env[TEST_KUBECONFIG_ENV] = cluster.kubeconfig;
  process.env[PODS_ENV.netns] = cluster.netns;
  process.env[PODS_ENV.nodeIp] = cluster.nodeIp;
}
