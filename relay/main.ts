// Wires the relay together: config -> auth, policy, data plane, TURN server,
// listeners, admin endpoint; then watches the config, auth and TLS files and
// applies changes live. A bad reload is logged (naming the field) and the old
// configuration keeps serving. Listeners and the admin port are never
// restarted by a reload.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { RelayConfig } from './config/schema.js';
import { loadRelayConfigFile } from './config/load.js';
import { watchFiles } from './config/file-watch.js';
import { CredentialStore } from './auth/credential-store.js';
import { NonceIssuer } from './auth/nonce.js';
import { AuthFailureLimiter } from './auth/failure-limiter.js';
import { PeerPolicy, type PeerPolicyOptions } from './policy/peer-policy.js';
import { JsDataPlane } from './dataplane/js-data-plane.js';
import { NativeDataPlane } from './dataplane/native/native-data-plane.js';
import { AllocationTable } from './server/allocation-table.js';
import { isUnspecified } from './server/advertised-address.js';
import { RelayPortAllocator } from './server/relay-ports.js';
import { createServerStats, countError } from './server/stats.js';
import { TurnServer } from './server/turn-server.js';
import { UdpListener } from './transport/udp-listener.js';
import { StreamListener, type TlsMaterial } from './transport/stream-listener.js';
import { ConnectionTable } from './transport/connection-table.js';
import type { StreamLimits } from './transport/stream-client.js';
import { startAdminServer, type AdminServer } from '../shared/admin-server.js';
import { createRelayMetrics } from './metrics.js';
import { readAuthFiles, type AuthFiles } from './auth/load-auth-files.js';
import { createLogger, type Logger } from '../shared/log.js';
import { HandlerGuard } from './handler-guard.js';

export type ListenerInfo = { protocol: 'udp' | 'tcp' | 'tls'; host: string; port: number };

export interface RelayServer {
  listeners: ListenerInfo[];
  admin: { host: string; port: number };
  /** What SIGTERM does: not ready, no new allocations, wait for allocations to end or the grace period. */
  drain(): Promise<void>;
  /** Immediate stop; frees every socket and timer. */
  close(): Promise<void>;
  /** For tests and tools: the control plane, and a way to run a reload now instead of waiting for the watcher. */
  readonly turn: TurnServer;
  reload(): Promise<void>;
}

/** Every address the relay can be reached on: peers there would loop back into the relay. */
function relayAddresses(config: RelayConfig): string[] {
  const out = new Set<string>();
  const hosts = [config.relay.host, config.relay.host6, ...config.listeners.map((l) => l.host)].filter((h): h is string => !!h);
  for (const h of hosts) if (!isUnspecified(h)) out.add(h);
  if (hosts.some(isUnspecified)) {
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (!i.address.includes('%')) out.add(i.address);
  }
  if (config.relay.externalAddress) out.add(config.relay.externalAddress);
  if (config.relay.externalAddress6) out.add(config.relay.externalAddress6);
  return [...out];
}

function policyOptions(config: RelayConfig): PeerPolicyOptions {
  return { allowCIDRs: config.peers.allowCIDRs, denyCIDRs: config.peers.denyCIDRs, relayAddresses: relayAddresses(config), relayPortRange: config.relay.portRange };
}

async function readTls(config: RelayConfig): Promise<TlsMaterial | undefined> {
  if (!config.tls) return undefined;
  const [cert, key] = await Promise.all([readFile(config.tls.certFile), readFile(config.tls.keyFile)]);
  return { cert, key, minVersion: config.tls.minVersion };
}

/** notAfter (unix seconds) of the leaf certificate, the first one in the file. */
function certificateNotAfter(tls: TlsMaterial | undefined): number | undefined {
  return tls ? new X509Certificate(tls.cert).validToDate.getTime() / 1000 : undefined;
}

function watchedPaths(config: RelayConfig, configPath?: string): string[] {
  return [configPath, config.auth.secretsFile, config.auth.usersFile, config.tls?.certFile, config.tls?.keyFile]
    .filter((p): p is string => !!p);
}

/** Config fields a reload cannot apply: listeners, the admin port and the data plane live as long as the process. */
const RESTART_ONLY: Record<string, (c: RelayConfig) => unknown> = {
  listeners: (c) => c.listeners,
  admin: (c) => c.admin,
  'relay.dataPlane': (c) => c.relay.dataPlane,
};

function nonceIssuer(auth: RelayConfig['auth']): NonceIssuer {
  return new NonceIssuer({ lifetimeMs: auth.nonceLifetimeSeconds * 1000 });
}

function failureLimiter(auth: RelayConfig['auth']): AuthFailureLimiter {
  return new AuthFailureLimiter({ maxFailures: auth.maxFailuresPerIp, windowMs: auth.failureWindowSeconds * 1000 });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function startRelay(opts: { config: RelayConfig; configPath?: string; log?: Logger }): Promise<RelayServer> {
  let config = opts.config;
  const log = opts.log ?? createLogger('relay', config.log.level);
  const credentials = new CredentialStore();
  applyAuthFiles(credentials, await readAuthFiles(config.auth));
  let tls = await readTls(config);
  if (isUnspecified(config.relay.host) && !config.relay.externalAddress && config.listeners.some((l) => l.protocol === 'udp' && isUnspecified(l.host))) {
    log.warn('relay.host and a UDP listener bind the unspecified address and relay.externalAddress is not set: '
      + 'clients on UDP may be told an unusable relayed address; set relay.externalAddress (or bind relay.host to a concrete IP)');
  }

  const stats = createServerStats();
  const allocations = new AllocationTable();
  // Fixed at startup: listeners and relay sockets belong to one plane for the process lifetime.
  const guard = new HandlerGuard(log);
  const nativePlane = config.relay.dataPlane === 'native' ? new NativeDataPlane(guard) : undefined;
  const dataPlane = nativePlane ?? new JsDataPlane(guard);
  const turn = new TurnServer({
    config,
    credentials,
    nonces: nonceIssuer(config.auth),
    limiter: failureLimiter(config.auth),
    policy: new PeerPolicy(policyOptions(config)),
    dataPlane,
    allocations,
    ports: new RelayPortAllocator(config.relay.portRange, () => Math.max(16, config.limits.maxAllocations)),
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
  let ready = true;
  let admin: AdminServer;
  try {
    for (const l of config.listeners) {
      if (l.protocol === 'udp') {
        const u = await UdpListener.start(turn, l.host, l.port, nativePlane);
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
      certificateNotAfter: () => certificateNotAfter(tls),
    });
    admin = await startAdminServer({ host: config.admin.host, port: config.admin.port, registry, ready: () => ready && !ctx.draining });
  } catch (err) {
    await closeListeners();
    turn.close();
    nativePlane?.close();
    throw err;
  }

  // Reloads run one at a time; a burst of file events coalesces in the watcher.
  let reloading: Promise<void> = Promise.resolve();
  const reload = (): Promise<void> => (reloading = reloading.then(reloadNow, reloadNow));
  async function reloadNow(): Promise<void> {
    let next = config;
    if (opts.configPath) {
      try {
        next = await loadRelayConfigFile(opts.configPath);
      } catch (err) {
        countError(stats, 'config_reload');
        log.error({ file: opts.configPath, error: errorMessage(err) }, 'config reload rejected; the previous config stays in effect');
      }
    }
    let material;
    let nextTls;
    try {
      material = await readAuthFiles(next.auth);
      nextTls = await readTls(next);
      if (nextTls) for (const s of streams) s.reloadCertificate(nextTls); // throws on a bad key pair
      if (next !== config) new PeerPolicy(policyOptions(next)); // validate before touching anything
    } catch (err) {
      countError(stats, 'config_reload');
      log.error({ error: errorMessage(err) }, 'reload rejected (auth or TLS files); the previous config and credentials stay in effect');
      if (tls) for (const s of streams) s.reloadCertificate(tls);
      return;
    }
    applyAuthFiles(credentials, material);
    tls = nextTls;
    if (next !== config) applyConfig(next);
  }

  function applyConfig(next: RelayConfig): void {
    const prev = config;
    for (const [field, read] of Object.entries(RESTART_ONLY)) {
      if (!isDeepStrictEqual(read(prev), read(next))) log.warn({ field }, 'changed in the config file; takes effect only after a restart');
    }
    config = next;
    ctx.config = next;
    ctx.policy.update(policyOptions(next));
    turn.revalidatePeers();
    ctx.ports.setRange(next.relay.portRange);
    ctx.topUsers.setK(next.metrics.perUserTopK);
    if (prev.limits.maxBitrateKbps !== next.limits.maxBitrateKbps) turn.setMaxBitrate(next.limits.maxBitrateKbps);
    if (prev.auth.nonceLifetimeSeconds !== next.auth.nonceLifetimeSeconds) {
      ctx.nonces = nonceIssuer(next.auth);
    }
    if (prev.auth.maxFailuresPerIp !== next.auth.maxFailuresPerIp || prev.auth.failureWindowSeconds !== next.auth.failureWindowSeconds) {
      ctx.limiter = failureLimiter(next.auth);
    }
    log.level = next.log.level;
    if (!isDeepStrictEqual(watchedPaths(prev, opts.configPath), watchedPaths(next, opts.configPath))) rewatch();
    log.info('config reloaded');
  }

  let watcher: { close(): void } | undefined;
  function rewatch(): void {
    watcher?.close();
    watcher = watchFiles(watchedPaths(config, opts.configPath), () => { void reload(); });
  }
  rewatch();

  const adminInfo = { host: admin.host, port: admin.port };
  // Always written, whatever log.level says: parent processes read the actual
  // ports from this line.
  log.child({}, { level: 'info' }).info({ listeners, admin: adminInfo }, 'relay started');

  let closed = false;
  return {
    listeners,
    admin: adminInfo,
    turn,
    reload,
    async drain() {
      ready = false;
      ctx.draining = true;
      const graceMs = config.drain.gracePeriodSeconds * 1000;
      log.info({ allocations: allocations.size, graceSeconds: config.drain.gracePeriodSeconds }, 'draining: no new allocations');
      const deadline = Date.now() + graceMs;
      while (allocations.size > 0 && Date.now() < deadline && !closed) {
        await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, deadline - Date.now()))));
      }
      log.info({ allocations: allocations.size }, 'drain finished');
    },
    async close() {
      if (closed) return;
      closed = true;
      watcher?.close();
      turn.close();
      await Promise.all([closeListeners(), admin.close()]);
      nativePlane?.close();
    },
  };
}

function applyAuthFiles(store: CredentialStore, files: AuthFiles): void {
  store.setSecrets(files.secrets);
  store.setUsers(files.users);
}
