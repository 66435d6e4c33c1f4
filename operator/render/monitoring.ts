// Prometheus Operator children of a TurnRelay: a PodMonitor scraping the relay
// pods' admin port (never exposed through the relay Service) and a
// PrometheusRule with the relay's alerts. Rendered only when the
// monitoring.coreos.com/v1 CRDs are served and spec.monitoring.enabled.
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { ADMIN_PORT_NAME } from '../api/constants.js';
import type { TurnRelay } from '../api/turnrelay.js';
import { childMetadata, childNames, relayName, relayNamespace, selectorLabels } from './names.js';
import { relayAlertRules } from './relay-alerts.js';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

function metadata(relay: TurnRelay, name: string) {
  const m = childMetadata(relay, name);
  // Ours win: the relay label is what prune and ownership rely on.
  return { ...m, labels: { ...relay.spec.monitoring.labels, ...m.labels } };
}

export function relayMonitoring(scope: Construct, relay: TurnRelay): void {
  const names = childNames(relay);
  new ApiObject(scope, 'pod-monitor', {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PodMonitor',
    metadata: metadata(relay, names.podMonitor),
    spec: {
      selector: { matchLabels: selectorLabels(relay) },
      namespaceSelector: { matchNames: [relayNamespace(relay)] },
      podMetricsEndpoints: [
        {
          port: ADMIN_PORT_NAME,
          path: '/metrics',
          interval: '30s',
          // The label every alert and dashboard query selects a relay by.
          relabelings: [
            {
              sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_instance'],
              targetLabel: 'turnrelay',
              action: 'replace',
            },
          ],
        },
      ],
    },
  });
  new ApiObject(scope, 'prometheus-rule', {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
    metadata: metadata(relay, names.prometheusRule),
    spec: { groups: relayAlertRules({ namespace: relayNamespace(relay), name: relayName(relay) }) },
  });
}
