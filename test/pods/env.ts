// Per test file of the pods project (Jest gives each file its own copy of
// process.env): the k8s helpers (testKubeConfig, kubectl, namespaces) talk to
// the cluster of this file's Jest worker instead of the k8s project's control
// plane (the pods helpers read its node from pods-env.ts).
import { TEST_KUBECONFIG_ENV } from '../k8s/harness/cluster.js';
import { clusterOfWorker } from './harness/pods-env.js';

const cluster = clusterOfWorker();
if (cluster) process.env[TEST_KUBECONFIG_ENV] = cluster.kubeconfig;
