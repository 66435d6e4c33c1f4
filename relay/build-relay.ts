// Builds a running relay from a config: credentials, TLS, peer policy, data
// plane, TURN server, listeners, metrics and the admin endpoint. When a
// listener or the admin endpoint fails to start, everything started so far
// is closed again before the error is thrown.
import { X509Certificate } from 'node:crypto';
import type { RelayConfig } from './config/schema.js';
import { CredentialStore } from './auth/credential-store.js';
import { readAuthFiles } from './auth/load-auth-files.js';
import { PeerPolicy } from './policy/peer-policy.js';
import { selectDataPlane } from './dataplane/select.js';
import { AllocationTable } from './server/allocation-table.js';
import { isUnspecified } from './server/advertised-address.js';
import { RelayPortAllocator } from './server/relay-ports.js';
import { createServerStats, type ServerStats } from './server/stats.js';
import { TurnServer } from './server/turn-server.js';
import { UdpListener } from './transport/udp-listener.js';
import { StreamListener, type TlsMaterial } from './transport/stream-listener.js';
import { ConnectionTable } from './transport/connection-table.js';
import type { StreamLimits } from './transport/stream-client.js';
import { startAdminServer, type AdminServer } from '../shared/admin-server.js';
import { createRelayMetrics } from './metrics.js';
import { applyAuthFiles, failureLimiter, nonceIssuer, policyOptions, readTls } from './from-config.js';
import type { Logger } from '../shared/log.js';
import type { DataPlane } from './dataplane/types.js';
import { HandlerGuard } from './handler-guard.js';

export type ListenerInfo = { protocol: 'udp' | 'tcp' | 'tls'; host: string; port: number };

export interface BuiltRelay {
  readonly turn: TurnServer;
  readonly dataPlane: DataPlane;
  readonly credentials: CredentialStore;
  readonly stats: ServerStats;
  readonly allocations: AllocationTable;
  /** TCP and TLS listeners (the reloader hands them new certificates). */
  readonly streams: StreamListener[];
  readonly listeners: ListenerInfo[];
  readonly admin: AdminServer;
  /** The key pair in use; the reloader replaces it, the certificate expiry metric reads it. */
  tls: TlsMaterial | undefined;
  /** Stops the server and frees every socket and timer. */
  close(): Promise<void>;
}

/** notAfter (unix seconds) of the leaf certificate, the first one in the file. */
function certificateNotAfter(tls: TlsMaterial | undefined): number | undefined {
  return tls ? new X509Certificate(tls.cert).validToDate.getTime() / 1000 : undefined;
}

export async function buildRelay(config: RelayConfig, log: Logger): Promise<BuiltRelay> {
  const credentials = new CredentialStore();
  applyAuthFiles(credentials, await readAuthFiles(config.auth));
  const tls = await readTls(config);
  if (
    isUnspecified(config.relay.host) &&
    !config.relay.externalAddress &&
    config.listeners.some((l) => l.protocol === 'udp' && isUnspecified(l.host))
  ) {
    log.warn(
      'relay.host and a UDP listener bind the unspecified address and relay.externalAddress is not set: ' +
        "UDP clients are told this host's first routable interface address as their relayed address; set relay.externalAddress (or bind relay.host to a concrete IP) if that is not the one peers reach",
    );
  }

  const stats = createServerStats();
  const allocations = new AllocationTable();
  // Fixed at startup: listeners and relay sockets belong to one plane for the process lifetime.
  const guard = new HandlerGuard(log);
  const dataPlane = selectDataPlane({
    choice: config.relay.dataPlane,
    ...(config.relay.threads ? { threads: config.relay.threads } : {}),
    ...(config.relay.coalesceMicros !== undefined ? { coalesceMicros: config.relay.coalesceMicros } : {}),
    guard,
    log,
  });
  const turn: TurnServer = new TurnServer({
    config,
    credentials,
    nonces: nonceIssuer(config.auth),
    limiter: failureLimiter(config.auth),
    policy: new PeerPolicy(policyOptions(config), (port) => turn.ctx.ports.isBound(port)),
    dataPlane,
    allocations,
    ports: new RelayPortAllocator(config.relay.portRange, () => Math.max(16, turn.ctx.config.limits.maxAllocations)),
    stats,
    log,
    guard,
  });
  const ctx = turn.ctx;

  const limits: StreamLimits = {
    idleTimeoutMs: () => ctx.config.limits.connectionIdleTimeoutSeconds * 1000,
    maxBufferedBytes: () => ctx.config.limits.maxBufferedBytesPerConnection,
  };
  const connections = new ConnectionTable({
    maxConnections: () => ctx.config.limits.maxConnections,
    maxConnectionsPerIp: () => ctx.config.limits.maxConnectionsPerIp,
    firstMessageTimeoutMs: () => ctx.config.limits.firstMessageTimeoutSeconds * 1000,
  });
  const udp: UdpListener[] = [];
  const streams: StreamListener[] = [];
  const listeners: ListenerInfo[] = [];
  const closeListeners = () => Promise.all([...udp.map((l) => l.close()), ...streams.map((l) => l.close())]);
  let admin: AdminServer;
  // eslint-disable-next-line prefer-const -- read by the metrics callback, which may run before it is assigned
  let built: BuiltRelay | undefined;
  try {
    for (const l of config.listeners) {
      if (l.protocol === 'udp') {
        const u = await UdpListener.start(turn, dataPlane, l.host, l.port);
        udp.push(u);
        listeners.push({ protocol: 'udp', host: l.host, port: u.port });
      } else {
        const s = await StreamListener.start(turn, l.protocol, l.host, l.port, connections, limits, tls);
        streams.push(s);
        listeners.push({ protocol: l.protocol, host: l.host, port: s.port });
      }
    }
    const registry = createRelayMetrics({
      stats,
      handlerErrors: guard.counts,
      dataPlane: dataPlane.counters,
      allocations,
      connections: () => ({
        tcp: streams.filter((s) => s.protocol === 'tcp').reduce((n, s) => n + s.connectionCount, 0),
        tls: streams.filter((s) => s.protocol === 'tls').reduce((n, s) => n + s.connectionCount, 0),
      }),
      connectionTable: connections,
      draining: () => ctx.draining,
      maxAllocations: () => ctx.config.limits.maxAllocations,
      userTraffic: () => {
        turn.accountLiveUsage();
        return ctx.topUsers.series();
      },
      certificateNotAfter: () => certificateNotAfter(built ? built.tls : tls),
    });
    admin = await startAdminServer({
      host: config.admin.host,
      port: config.admin.port,
      registry,
      // /readyz (the pod's readiness probe) stays 200 while draining: the
      // pod's endpoint must keep serving=true, or kube-proxy deletes the UDP
      // conntrack entries of its live calls and their next packets reach
      // another pod. Kubernetes already keeps new flows off a terminating
      // endpoint; /readyz/new-allocations is for balancers that do not.
      ready: () => true,
      readiness: { '/readyz/new-allocations': () => !ctx.draining },
    });
  } catch (err) {
    await closeListeners();
    turn.close();
    dataPlane.close();
    throw err;
  }

  built = {
    turn,
    dataPlane,
    credentials,
    stats,
    allocations,
    streams,
    listeners,
    admin,
    tls,
    async close() {
      turn.close();
      await Promise.all([closeListeners(), admin.close()]);
      dataPlane.close();
    },
  };
  return built;
}
