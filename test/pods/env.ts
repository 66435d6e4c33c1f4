// Per test file of the pods project (Jest gives each file its own copy of
// process.env): the k8s helpers (testKubeConfig, kubectl, namespaces) talk to
// the cluster with the real node instead of the k8s project's control plane.
import { TEST_KUBECONFIG_ENV } from '../k8s/harness/cluster.js';
import { PODS_ENV } from './harness/pods-env.js';

const kubeconfig = process.env[PODS_ENV.kubeconfig];
if (kubeconfig) process.env[TEST_KUBECONFIG_ENV] = kubeconfig;
