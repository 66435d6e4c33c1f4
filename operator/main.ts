// startOperator: wires the Kubernetes client, metrics and admin endpoints,
// leader election and the controller. The CLI calls it; tests call it
// in-process with short timings and an injectable clock.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { startAdminServer, type AdminServer } from '../shared/admin-server.js';
import { createLogger, type Logger } from '../shared/log.js';
import { startCredentialsApi, type CredentialsApi, type RateSettings } from './credentials-api/server.js';
import {
  bootstrapServingCert,
  readCertFiles,
  type BootstrapOptions,
  type ServingCert,
} from './credentials-api/serving-cert.js';
import { Controller } from './runtime/controller.js';
import { EventRecorder } from './runtime/events.js';
import { KubeRest } from './runtime/kube-rest.js';
import { LeaderElector } from './runtime/leader-election.js';
import { OperatorMetrics } from './runtime/metrics.js';
import type { WorkQueueOptions } from './runtime/work-queue.js';

export const DEFAULT_RELAY_IMAGE = 'ghcr.io/turnrelay/turnrelay:0.1.0';

export interface LeaderElectionSettings {
  /** Namespace of the Lease (the operator's own namespace). */
  namespace: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface CredentialsApiSettings {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Serving key pair: mounted files (re-read when they change), a key pair
   * given directly (tests), or a self-signed one kept in a Secret of the
   * operator's namespace and published in a CA ConfigMap.
   */
  tls: { certFile: string; keyFile: string } | { cert: ServingCert } | { bootstrap: BootstrapOptions };
  perIdentity?: RateSettings;
  failuresPerAddress?: RateSettings;
  maxInFlight?: number;
  requestTimeoutMs?: number;
}

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Watch one namespace only (default: all). */
  namespace?: string;
  image?: string;
  /** Admin HTTP server (/metrics, /healthz, /readyz); omitted = not started. Port 0 picks a free port. */
  admin?: { host?: string; port: number };
  leaderElection?: LeaderElectionSettings;
  /** The credentials API (HTTPS); omitted = not started. Every replica serves it, leader or not. */
  credentialsApi?: CredentialsApiSettings;
  workers?: number;
  resyncMs?: number;
  informerRestartBaseMs?: number;
  queue?: WorkQueueOptions;
  /** Clock for rotation and status times (tests move it forward). */
  now?: () => number;
  log?: Logger;
  /** Instance name in Events and the Lease. */
  identity?: string;
}

export interface OperatorHandle {
  readonly identity: string;
  readonly metrics: OperatorMetrics;
  readonly rest: KubeRest;
  adminPort?: number;
  credentialsApiPort?: number;
  isLeader(): boolean;
  /** Caches synced and workers running (for a leader). */
  isReady(): boolean;
  stop(): Promise<void>;
}

export async function startOperator(opts: OperatorOptions): Promise<OperatorHandle> {
  const log = opts.log ?? createLogger('operator');
  const identity = opts.identity ?? opts.leaderElection?.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  let controller: Controller | undefined;
  const metrics = new OperatorMetrics({
    depth: () => controller?.queueDepth ?? 0,
    delayed: () => controller?.queueDelayed ?? 0,
  });
  const rest = await KubeRest.fromKubeConfig(opts.kubeConfig, `turnrelay-operator/${identity}`);
  rest.observe((method, _path, status) => metrics.apiRequests.inc({ method, code: String(status) }));
  const recorder = new EventRecorder(rest, 'turnrelay-operator', identity, log);

  let credentials: CredentialsApi | undefined;
  if (opts.credentialsApi) {
    const c = opts.credentialsApi;
    const tls = c.tls;
    try {
      const cert =
        'cert' in tls
          ? tls.cert
          : 'certFile' in tls
            ? await readCertFiles(tls)
            : await bootstrapServingCert(rest, tls.bootstrap);
      credentials = await startCredentialsApi({
        rest,
        log,
        host: c.host ?? '0.0.0.0',
        port: c.port,
        cert,
        // Mounted files are cheap to re-read; the shared Secret is checked hourly (and renewed when due).
        ...('certFile' in tls ? { reloadCert: () => readCertFiles(tls) } : {}),
        ...('bootstrap' in tls
          ? { reloadCert: () => bootstrapServingCert(rest, tls.bootstrap), reloadEveryMs: 3_600_000 }
          : {}),
        ...(c.perIdentity ? { perIdentity: c.perIdentity } : {}),
        ...(c.failuresPerAddress ? { failuresPerAddress: c.failuresPerAddress } : {}),
        ...(c.maxInFlight !== undefined ? { maxInFlight: c.maxInFlight } : {}),
        ...(c.requestTimeoutMs !== undefined ? { requestTimeoutMs: c.requestTimeoutMs } : {}),
        observe: (status) => metrics.credentialRequests.inc({ code: String(status) }),
      });
    } catch (err) {
      rest.close();
      throw new Error(`credentials API did not start: ${(err as Error).message}`, { cause: err });
    }
  }

  let controllerStopped: Promise<void> = Promise.resolve();
  let stopping = false;
  let elector: LeaderElector | undefined;
  const mayWrite = () => !stopping && (elector ? elector.isLeader() : true);

  const startController = () => {
    if (stopping || controller) return;
    const c = new Controller({
      kc: opts.kubeConfig,
      rest,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      image: opts.image ?? DEFAULT_RELAY_IMAGE,
      workers: opts.workers ?? 2,
      resyncMs: opts.resyncMs ?? 5 * 60_000,
      informerRestartBaseMs: opts.informerRestartBaseMs ?? 500,
      queue: opts.queue ?? {},
      now: opts.now ?? Date.now,
      mayWrite,
      recorder,
      metrics,
      log,
    });
    controller = c;
    metrics.leader.set(1);
    c.start().catch((err: unknown) =>
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'controller failed to start'),
    );
  };
  const stopController = () => {
    metrics.leader.set(0);
    const c = controller;
    controller = undefined;
    if (c) controllerStopped = c.stop();
  };

  if (opts.leaderElection) {
    const le = opts.leaderElection;
    elector = new LeaderElector({
      rest,
      namespace: le.namespace,
      name: le.name ?? 'turnrelay-operator',
      identity,
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      log,
      onStartedLeading: startController,
      onStoppedLeading: stopController,
    });
    elector.start();
  } else {
    startController();
  }

  const isReady = () => !stopping && (controller ? controller.synced : !!elector);
  let admin: AdminServer | undefined;
  if (opts.admin)
    admin = await startAdminServer({
      host: opts.admin.host ?? '0.0.0.0',
      port: opts.admin.port,
      registry: metrics.registry,
      ready: isReady,
    });
  log.info(
    {
      identity,
      namespace: opts.namespace ?? '(all)',
      leaderElection: !!elector,
      adminPort: admin?.port,
      credentialsApiPort: credentials?.port,
    },
    'operator started',
  );

  return {
    identity,
    metrics,
    rest,
    ...(admin ? { adminPort: admin.port } : {}),
    ...(credentials ? { credentialsApiPort: credentials.port } : {}),
    isLeader: () => mayWrite(),
    isReady,
    async stop() {
      if (stopping) return;
      stopping = true;
      stopController();
      await controllerStopped;
      await elector?.stop();
      await admin?.close();
      await credentials?.close();
      rest.close();
      log.info({ identity }, 'operator stopped');
    },
  };
}
