// The alerts that matter for one TurnRelay, as PrometheusRule groups. Pure:
// the same rules are rendered by the operator and checked by the tests
// against a real Prometheus. Every expression is scoped to the relay's pods by
// the `namespace` and `turnrelay` target labels its PodMonitor sets.

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string };
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** Failed credential checks (a first request without credentials and stale nonces are normal TURN flow). */
export const AUTH_FAILURE_RESULTS = 'bad_integrity|unknown_user|expired|rate_limited';
/** Drops that mean lost media: a full client buffer, the bandwidth cap, or a data-plane thread too far behind. */
export const LOSS_DROP_REASONS = 'backpressure|rate_limited|handover';

function alert(
  name: string,
  expr: string,
  forDuration: string,
  severity: AlertRule['labels']['severity'],
  summary: string,
  description: string,
): AlertRule {
  return { alert: name, expr, for: forDuration, labels: { severity }, annotations: { summary, description } };
}

export function relayAlertRules(target: { namespace: string; name: string }): RuleGroup[] {
  const s = `namespace="${target.namespace}", turnrelay="${target.name}"`;
  const relay = `TurnRelay ${target.namespace}/${target.name}`;
  return [
    {
      name: `turnrelay-${target.namespace}-${target.name}`,
      rules: [
        alert(
          'TurnRelayPodDown',
          `up{${s}} == 0`,
          '5m',
          'critical',
          `${relay}: a relay pod cannot be scraped`,
          'Prometheus has not reached {{ $labels.pod }} on its admin port for 5 minutes: the pod is down, not ready or its network policy blocks the scrape.',
        ),
        alert(
          'TurnRelayAllocationsNearLimit',
          `sum by (namespace, turnrelay, pod) (turnrelay_allocations{${s}}) / on (namespace, turnrelay, pod) (turnrelay_max_allocations{${s}} > 0) > 0.8`,
          '10m',
          'warning',
          `${relay}: allocations above 80% of maxAllocations`,
          '{{ $labels.pod }} holds {{ $value | humanizePercentage }} of spec.limits.maxAllocations; new clients will get 508 soon. Add replicas or raise the limit.',
        ),
        alert(
          'TurnRelayAuthFailures',
          `sum by (namespace, turnrelay) (rate(turnrelay_auth_total{${s}, result=~"${AUTH_FAILURE_RESULTS}"}[5m])) > 0.2`,
          '10m',
          'warning',
          `${relay}: many failed TURN authentications`,
          '{{ $value | humanize }} failed credential checks per second: expired or wrongly signed REST credentials (a secret rotation problem) or someone guessing passwords.',
        ),
        alert(
          'TurnRelayPeerRefusals',
          `sum by (namespace, turnrelay) (rate(turnrelay_peer_refusals_total{${s}}[5m])) > 0.2`,
          '10m',
          'warning',
          `${relay}: many peers refused by the peer policy`,
          '{{ $value | humanize }} refusals per second: clients probing private ranges, or legitimate peers missing from spec.peers.allowCIDRs / allowServices.',
        ),
        alert(
          'TurnRelayPacketDrops',
          `sum by (namespace, turnrelay, pod, reason) (rate(turnrelay_dropped_packets_total{${s}, reason=~"${LOSS_DROP_REASONS}"}[5m])) > 1`,
          '10m',
          'warning',
          `${relay}: the data plane drops relayed packets`,
          '{{ $labels.pod }} drops {{ $value | humanize }} packets/s ({{ $labels.reason }}): slow TCP/TLS clients or STUN beyond what the JavaScript thread keeps up with (backpressure), spec.limits.maxBitrateKbps (rate_limited), or a data-plane thread too busy to take datagrams from the others (handover: add CPU or pods).',
        ),
        alert(
          'TurnRelayCertificateExpiresSoon',
          `min by (namespace, turnrelay, pod) (turnrelay_tls_certificate_expiry_timestamp_seconds{${s}}) - time() < 7 * 86400`,
          '1h',
          'warning',
          `${relay}: the TLS certificate expires within 7 days`,
          '{{ $labels.pod }} serves a certificate that expires in {{ $value | humanizeDuration }}; cert-manager renews at two thirds of the lifetime, so renewal is stuck (check the Certificate and its issuer).',
        ),
      ],
    },
  ];
}
