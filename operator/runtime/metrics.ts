// The operator's Prometheus metrics, in a registry per operator instance (so
// several instances can run in one process, as the tests do).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../shared/process-metrics.js';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'turnrelay_operator_reconciles_total',
    help: 'Reconciles of TurnRelays by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'turnrelay_operator_reconcile_errors_total',
    help: 'Reconciles that failed and were retried with backoff.',
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'turnrelay_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth: Gauge;
  readonly queueDelayed: Gauge;
  readonly apiRequests = new Counter({
    name: 'turnrelay_operator_api_requests_total',
    help: 'Kubernetes API requests by method and status code (watches excluded).',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });
  readonly applies = new Counter({
    name: 'turnrelay_operator_applies_total',
    help: 'Server-side applies of children by kind and reason (missing, changed, drifted).',
    labelNames: ['kind', 'reason'],
    registers: [this.registry],
  });
  readonly prunes = new Counter({
    name: 'turnrelay_operator_prunes_total',
    help: 'Children deleted because they are no longer desired.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly credentialRequests = new Counter({
    name: 'turnrelay_operator_credential_requests_total',
    help: 'Credentials API answers by HTTP status (200 issued, 401 unauthenticated, 403 not authorized, 429 rate limited, ...).',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'turnrelay_operator_leader',
    help: '1 while this instance holds the leader lease (or runs without leader election).',
    registers: [this.registry],
  });

  constructor(queue: { depth: () => number; delayed: () => number }, defaultMetrics = true) {
    this.queueDepth = new Gauge({
      name: 'turnrelay_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      registers: [this.registry],
      collect() {
        this.set(queue.depth());
      },
    });
    this.queueDelayed = new Gauge({
      name: 'turnrelay_operator_workqueue_delayed',
      help: 'Keys scheduled for later (backoff or timed work).',
      registers: [this.registry],
      collect() {
        this.set(queue.delayed());
      },
    });
    if (defaultMetrics) collectProcessMetrics(this.registry, 'turnrelay_operator_');
  }
}
