// renderRelay: every desired child of a TurnRelay, computed purely from the
// resource and observed cluster facts (a fresh cdk8s App per call, no I/O).
// The auth Secret is not rendered here: see auth-secret.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { stringify } from 'yaml';
import { durationSeconds } from '../api/duration.js';
import type { TurnRelay } from '../api/turnrelay.js';
import { relayCertificate } from './certificate.js';
import { relayMonitoring } from './monitoring.js';
import { childMetadata, childNames, relayNamespace } from './names.js';
import type { Observed } from './observed.js';
import { relayDisruptionBudget, relayNetworkPolicy } from './policy.js';
import { CONFIG_FILE, hasTlsListener, renderRelayConfig, type RelayConfig } from './relay-config.js';
import { finishService, relayService } from './service.js';
import { finishDeployment, relayDeployment } from './workload.js';

export type { Observed } from './observed.js';
export type { RelayConfig } from './relay-config.js';

export type RenderInput = {
  relay: TurnRelay;
  image: string;
  authSecretName: string;
  observed: Observed;
};

export type RenderedChildren = {
  /** Every desired child, in apply order. */
  objects: KubernetesObject[];
  relayConfig: RelayConfig;
  /** Secret holding the TLS key pair, when a TLS listener exists. */
  tlsSecretName?: string;
  serviceName: string;
  workloadName: string;
};

// Apply order: identities and config before what consumes them.
const KIND_ORDER = [
  'ServiceAccount',
  'ConfigMap',
  'Certificate',
  'Service',
  'Deployment',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'PodMonitor',
  'PrometheusRule',
];

function finish(obj: KubernetesObject, relay: TurnRelay): KubernetesObject {
  if (obj.kind === 'Deployment') return finishDeployment(obj, relay);
  if (obj.kind === 'Service') return finishService(obj, relay);
  return obj;
}

export function renderRelay(input: RenderInput): RenderedChildren {
  const { relay, observed } = input;
  const names = childNames(relay);
  const tls = hasTlsListener(relay) && relay.spec.tls !== undefined;
  const relayConfig = renderRelayConfig(relay, observed);

  const app = new App();
  const chart = new Chart(app, 'relay', { namespace: relayNamespace(relay), disableResourceNameHashes: true });

  const serviceAccount = new kplus.ServiceAccount(chart, 'service-account', {
    metadata: childMetadata(relay, names.serviceAccount),
    automountToken: false,
  });
  const configMap = new kplus.ConfigMap(chart, 'config', {
    metadata: childMetadata(relay, names.configMap),
    data: { [CONFIG_FILE]: stringify(relayConfig) },
  });
  if (tls && observed.certManager) relayCertificate(chart, relay);
  relayService(chart, relay);
  const deployment = relayDeployment(chart, {
    relay,
    image: input.image,
    authSecretName: input.authSecretName,
    config: relayConfig,
    serviceAccount,
    configMap,
  });
  const autoscaling = relay.spec.autoscaling;
  if (autoscaling) {
    // Also makes the Deployment omit spec.replicas, leaving it to the HPA.
    new kplus.HorizontalPodAutoscaler(chart, 'autoscaler', {
      metadata: childMetadata(relay, names.autoscaler),
      target: deployment,
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(autoscaling.targetCPUUtilization))],
      scaleDown: { stabilizationWindow: Duration.seconds(durationSeconds(autoscaling.scaleDownStabilization)) },
    });
  }
  relayDisruptionBudget(chart, relay);
  relayNetworkPolicy(chart, relay);
  if (observed.prometheusOperator && relay.spec.monitoring.enabled) relayMonitoring(chart, relay);

  const objects = (chart.toJson() as KubernetesObject[])
    .map((obj) => finish(obj, relay))
    .sort((a, b) => KIND_ORDER.indexOf(a.kind ?? '') - KIND_ORDER.indexOf(b.kind ?? ''));
  return {
    objects,
    relayConfig,
    ...(tls ? { tlsSecretName: names.tlsSecret } : {}),
    serviceName: names.service,
    workloadName: names.workload,
  };
}
