// What one reconcile needs from the runtime: cached reads, guarded writes, a
// clock and an event recorder. Keeping this an interface lets the reconcile
// stay a straight-line function over plain data.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';
import type { EventType } from '../runtime/events.js';
import type { KubeRest } from '../runtime/kube-rest.js';
import type { LatestView } from '../runtime/latest-view.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import type { ResourceKind } from '../runtime/resources.js';

export interface ChildCache { kind: ResourceKind; view: LatestView<KubernetesObject> }

export interface ReconcileContext {
  rest: KubeRest;
  relays: LatestView<KubernetesObject>;
  /** Caches of child kinds by `apiVersion/kind`; Certificate only while cert-manager is installed. */
  children: Map<string, ChildCache>;
  endpointSlices: LatestView<KubernetesObject>;
  nodes: LatestView<KubernetesObject>;
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
