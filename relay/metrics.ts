// Prometheus metrics, one registry per relay. Hot-path counters are plain
// numbers owned by the data plane and the server; prom-client reads them at
// scrape time through collect(), so nothing is done per packet here.
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../shared/process-metrics.js';
import type { DataPlaneCounters, ClientTransport, DirectionCounters } from './dataplane/types.js';
import type { AllocationTable } from './server/allocation-table.js';
import type { ConnectionTable } from './transport/connection-table.js';
import { ALLOCATION_RESULTS, AUTH_RESULTS, type ServerStats } from './server/stats.js';

export interface MetricSources {
  stats: ServerStats;
  /** Throws caught around socket event handlers, by handler. */
  handlerErrors: ReadonlyMap<string, number>;
  dataPlane: DataPlaneCounters;
  allocations: AllocationTable;
  connections(): Record<Exclude<ClientTransport, 'udp'>, number>;
  connectionTable: ConnectionTable;
  draining(): boolean;
  /** limits.maxAllocations in effect (0 = unlimited). */
  maxAllocations(): number;
  /** Per-user traffic (top K users plus `other`), brought up to date with live allocations when read. */
  userTraffic(): Array<[string, DirectionCounters]>;
  /** notAfter of the served TLS certificate (unix seconds); undefined without TLS. */
  certificateNotAfter(): number | undefined;
}

const TRANSPORTS: ClientTransport[] = ['udp', 'tcp', 'tls'];

type Sample = [Record<string, string>, number];

export function createRelayMetrics(src: MetricSources): Registry {
  const registry = new Registry();
  collectProcessMetrics(registry, 'turnrelay_process_');
  // Metrics of values we own, re-read at each scrape: reset, then write every sample (one left out is absent).
  const refill = <M extends { reset(): void }>(
    read: () => Sample[],
    write: (metric: M, labels: Sample[0], value: number) => void,
  ) =>
    function (this: M) {
      this.reset();
      for (const [labels, value] of read()) write(this, labels, value);
    };
  // Counters mirroring absolute values we own.
  const mirror = (name: string, help: string, labelNames: string[], read: () => Sample[]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect: refill<Counter>(read, (counter, labels, value) => counter.inc(labels, value)),
    });
  const gauge = (name: string, help: string, labelNames: string[], read: () => Sample[]) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect: refill<Gauge>(read, (metric, labels, value) => metric.set(labels, value)),
    });

  gauge('turnrelay_allocations', 'Current allocations by relay address family', ['family'], () => [
    [{ family: 'ipv4' }, src.allocations.countFamily(4)],
    [{ family: 'ipv6' }, src.allocations.countFamily(6)],
  ]);
  gauge('turnrelay_max_allocations', 'limits.maxAllocations in effect (0 = unlimited)', [], () => [
    [{}, src.maxAllocations()],
  ]);
  mirror('turnrelay_allocations_total', 'Allocate requests that passed authentication, by result', ['result'], () =>
    ALLOCATION_RESULTS.map((r) => [{ result: r }, src.stats.allocations[r]]),
  );
  mirror(
    'turnrelay_unauthenticated_responses_total',
    'Answers to unauthenticated requests: sent, or withheld by the per-source rate limit (reflection bound)',
    ['result'],
    () => [
      [{ result: 'sent' }, src.stats.unauthenticatedResponses.sent],
      [{ result: 'rate_limited' }, src.stats.unauthenticatedResponses.rate_limited],
    ],
  );
  mirror('turnrelay_auth_total', 'Authentication outcomes of TURN requests', ['result'], () =>
    AUTH_RESULTS.map((r) => [{ result: r }, src.stats.auth[r]]),
  );
  mirror(
    'turnrelay_peer_refusals_total',
    'Peers refused by the peer policy, by reason and request path',
    ['reason', 'path'],
    () =>
      [...src.stats.peerRefusals].map(([key, v]) => {
        const [reason = '', path = ''] = key.split('|');
        return [{ reason, path }, v];
      }),
  );
  const byTransportAndDirection = (toPeer: keyof DirectionCounters, toClient: keyof DirectionCounters) => () =>
    TRANSPORTS.flatMap((t): Sample[] => [
      [{ transport: t, direction: 'client_to_peer' }, src.dataPlane.byTransport[t][toPeer]],
      [{ transport: t, direction: 'peer_to_client' }, src.dataPlane.byTransport[t][toClient]],
    ]);
  mirror(
    'turnrelay_relayed_packets_total',
    'Relayed packets by client transport and direction',
    ['transport', 'direction'],
    byTransportAndDirection('clientToPeerPackets', 'peerToClientPackets'),
  );
  mirror(
    'turnrelay_relayed_bytes_total',
    'Relayed payload bytes by client transport and direction',
    ['transport', 'direction'],
    byTransportAndDirection('clientToPeerBytes', 'peerToClientBytes'),
  );
  mirror(
    'turnrelay_relayed_in_process_packets_total',
    "Client-to-peer packets whose peer was another allocation of this relay with this host's address, handed over without a trip through the kernel",
    [],
    () => [[{}, src.dataPlane.deliveredInProcess]],
  );
  mirror(
    'turnrelay_coalesce_pauses_total',
    'Pauses the native data plane took after a wakeup that relayed, so later datagrams share system calls (relay.coalesceMicros each)',
    [],
    () => [[{}, src.dataPlane.coalescePauses]],
  );
  mirror('turnrelay_dropped_packets_total', 'Packets the data plane dropped, by reason', ['reason'], () => [
    [{ reason: 'no_permission' }, src.dataPlane.droppedNoPermission],
    [{ reason: 'no_channel' }, src.dataPlane.droppedNoChannel],
    [{ reason: 'rate_limited' }, src.dataPlane.droppedRateLimited],
    [{ reason: 'backpressure' }, src.dataPlane.droppedBackpressure],
    [{ reason: 'handover' }, src.dataPlane.droppedHandover],
  ]);
  // kind="handler" samples say where: the socket event handler whose input made our code throw.
  mirror(
    'turnrelay_errors_total',
    'Errors by kind (malformed input, limits, send failures, internal, handler)',
    ['kind', 'where'],
    () => [
      ...[...src.stats.errors, ['relay_send', src.dataPlane.sendErrors] as [string, number]].map(
        ([kind, v]): Sample => [{ kind }, v],
      ),
      ...[...src.handlerErrors].map(([where, v]): Sample => [{ kind: 'handler', where }, v]),
    ],
  );
  gauge('turnrelay_connections', 'Open client connections by transport', ['transport'], () => {
    const c = src.connections();
    return [
      [{ transport: 'tcp' }, c.tcp],
      [{ transport: 'tls' }, c.tls],
    ];
  });
  // Bounded: at most metrics.perUserTopK users plus `other` (relay/usage/top-users.ts).
  const perUser = (toPeer: keyof DirectionCounters, toClient: keyof DirectionCounters) => () =>
    src.userTraffic().flatMap(([user, t]): Sample[] => [
      [{ user, direction: 'client_to_peer' }, t[toPeer]],
      [{ user, direction: 'peer_to_client' }, t[toClient]],
    ]);
  mirror(
    'turnrelay_user_relayed_bytes_total',
    'Relayed payload bytes of the top K users by bytes (user="other": everyone else)',
    ['user', 'direction'],
    perUser('clientToPeerBytes', 'peerToClientBytes'),
  );
  mirror(
    'turnrelay_user_relayed_packets_total',
    'Relayed packets of the top K users by bytes (user="other": everyone else)',
    ['user', 'direction'],
    perUser('clientToPeerPackets', 'peerToClientPackets'),
  );
  gauge(
    'turnrelay_tls_certificate_expiry_timestamp_seconds',
    'notAfter of the TLS certificate the relay serves (unix seconds); absent without TLS',
    ['listener'],
    () => {
      const notAfter = src.certificateNotAfter();
      return notAfter === undefined ? [] : [[{ listener: 'tls' }, notAfter]];
    },
  );
  gauge(
    'turnrelay_unauthenticated_connections',
    'Open TCP/TLS connections none of whose requests has passed authentication yet',
    [],
    () => [[{}, src.connectionTable.unauthenticated]],
  );
  mirror(
    'turnrelay_connections_closed_total',
    'TCP/TLS connections the relay closed or refused to protect the connection table, by reason',
    ['reason'],
    () => [
      [{ reason: 'evicted_unauthenticated' }, src.connectionTable.stats.evicted],
      [{ reason: 'first_message_timeout' }, src.connectionTable.stats.timedOut],
      [{ reason: 'refused' }, src.connectionTable.stats.refused],
    ],
  );
  gauge('turnrelay_draining', '1 while the relay drains (SIGTERM received)', [], () => [[{}, src.draining() ? 1 : 0]]);
  return registry;
}
