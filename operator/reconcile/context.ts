// What one reconcile needs from the runtime: typed cached reads, guarded
// writes, a clock and an event recorder. Keeping this an interface lets the
// reconcile stay gather → plan → execute over plain data.
import type { KubernetesObject, V1Deployment, V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';
import type { TurnRelayStatus } from '../api/turnrelay.js';
import type { EventType } from '../runtime/events.js';
import type { KubeRest } from '../runtime/kube-rest.js';
import type { LatestView } from '../runtime/latest-view.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import type { ResourceKind } from '../runtime/resources.js';

/** A TurnRelay as the API server returns it, before validation. */
export type RawTurnRelay = KubernetesObject & { spec?: unknown; status?: TurnRelayStatus };

/** A cert-manager Certificate: only its Ready condition matters here. */
export type CertificateObject = KubernetesObject & {
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
};

export interface ChildCache {
  kind: ResourceKind;
  view: LatestView<KubernetesObject>;
}

export interface ReconcileContext {
  rest: KubeRest;
  relays: LatestView<RawTurnRelay>;
  /** Caches of child kinds by `apiVersion/kind`; optional kinds only while their CRDs are served. */
  children: Map<string, ChildCache>;
  services: LatestView<V1Service>;
  deployments: LatestView<V1Deployment>;
  /** Undefined while cert-manager's Certificate CRD is not served. */
  certificates(): LatestView<CertificateObject> | undefined;
  endpointSlices: LatestView<V1EndpointSlice>;
  nodes: LatestView<V1Node>;
  certManagerInstalled(): boolean;
  /** The Prometheus Operator's PodMonitor and PrometheusRule CRDs are served. */
  prometheusOperatorInstalled(): boolean;
  image: string;
  now(): number;
  newSecret(): string;
  /** Throws unless this instance may write (leader, not shutting down). */
  assertMayWrite(): void;
  event(target: KubernetesObject, type: EventType, reason: string, message: string): Promise<void>;
  metrics: OperatorMetrics;
  log: Logger;
}

export interface ReconcileOutcome {
  result: 'ready' | 'not-ready' | 'invalid' | 'gone';
  requeueAfterMs?: number;
}
