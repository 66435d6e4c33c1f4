// Applies changes to the config, auth and TLS files to a running relay: it
// watches the files, reloads them one reload at a time, validates everything
// before touching anything, and then updates the live server in place. A bad
// reload is logged (naming the field) and the old configuration keeps
// serving. Listeners, the admin port and the data plane are never restarted.
import { isDeepStrictEqual } from 'node:util';
import type { RelayConfig } from './config/schema.js';
import { loadRelayConfigFile } from './config/load.js';
import { watchFiles } from './config/file-watch.js';
import { readAuthFiles } from './auth/load-auth-files.js';
import { PeerPolicy } from './policy/peer-policy.js';
import { countError } from './server/stats.js';
import type { BuiltRelay } from './build-relay.js';
import { UnauthenticatedResponseLimiter } from './server/unauthenticated-responses.js';
import { applyAuthFiles, failureLimiter, nonceIssuer, policyOptions, readTls } from './from-config.js';
import type { Logger } from '../shared/log.js';
import { NATIVE_ONLY_SETTINGS } from './dataplane/select.js';

function watchedPaths(config: RelayConfig, configPath?: string): string[] {
  return [configPath, config.auth.secretsFile, config.auth.usersFile, config.tls?.certFile, config.tls?.keyFile].filter(
    (p): p is string => !!p,
  );
}

/** Config fields a reload cannot apply: listeners, the admin port and the data plane (its threads and pause too) live as long as the process. */
const RESTART_ONLY: Record<string, (c: RelayConfig) => unknown> = {
  listeners: (c) => c.listeners,
  admin: (c) => c.admin,
  'relay.dataPlane': (c) => c.relay.dataPlane,
  'relay.threads': (c) => c.relay.threads,
  'relay.coalesceMicros': (c) => c.relay.coalesceMicros,
};

/** The fields of RESTART_ONLY that differ between two configs. */
export function restartOnlyChanges(prev: RelayConfig, next: RelayConfig): string[] {
  return Object.entries(RESTART_ONLY)
    .filter(([, read]) => !isDeepStrictEqual(read(prev), read(next)))
    .map(([field]) => field);
}

const NATIVE_ONLY: ReadonlySet<string> = new Set(NATIVE_ONLY_SETTINGS);

export interface UnappliedChange {
  field: string;
  /** 'restart': applies from the next start; 'unused': the running JavaScript plane never reads it. */
  effect: 'restart' | 'unused';
}

/**
 * What a reload says about each changed field it cannot apply. A native-only setting on a
 * relay that runs the JavaScript plane is 'unused' unless relay.dataPlane changed too (then
 * the next start may run the native plane, which reads it).
 */
export function unappliedChanges(prev: RelayConfig, next: RelayConfig, running: 'node' | 'native'): UnappliedChange[] {
  const fields = restartOnlyChanges(prev, next);
  const planeChanged = fields.includes('relay.dataPlane');
  return fields.map((field) => ({
    field,
    effect: running === 'node' && !planeChanged && NATIVE_ONLY.has(field) ? 'unused' : 'restart',
  }));
}

const UNAPPLIED_MESSAGE: Record<UnappliedChange['effect'], string> = {
  restart: 'changed in the config file; takes effect only after a restart',
  unused:
    'changed in the config file; the JavaScript data plane running here does not use it (only the native plane does)',
};

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class RelayReloader {
  private config: RelayConfig;
  // Reloads run one at a time; a burst of file events coalesces in the watcher.
  private reloading: Promise<void> = Promise.resolve();
  private watcher: { close(): void } | undefined;

  constructor(
    private readonly relay: BuiltRelay,
    config: RelayConfig,
    private readonly configPath: string | undefined,
    private readonly log: Logger,
  ) {
    this.config = config;
    this.rewatch();
  }

  /** Runs a reload after any that is in progress. */
  reload(): Promise<void> {
    const next = () => this.reloadNow();
    return (this.reloading = this.reloading.then(next, next));
  }

  close(): void {
    this.watcher?.close();
  }

  private async reloadNow(): Promise<void> {
    const { relay, log } = this;
    const { stats, streams } = relay;
    let next = this.config;
    if (this.configPath) {
      try {
        next = await loadRelayConfigFile(this.configPath);
      } catch (err) {
        countError(stats, 'config_reload');
        log.error(
          { file: this.configPath, error: errorMessage(err) },
          'config reload rejected; the previous config stays in effect',
        );
      }
    }
    let material;
    let nextTls;
    try {
      material = await readAuthFiles(next.auth);
      nextTls = await readTls(next);
      if (nextTls) for (const s of streams) s.reloadCertificate(nextTls); // throws on a bad key pair
      if (next !== this.config) new PeerPolicy(policyOptions(next)); // validate before touching anything
    } catch (err) {
      countError(stats, 'config_reload');
      log.error(
        { error: errorMessage(err) },
        'reload rejected (auth or TLS files); the previous config and credentials stay in effect',
      );
      const tls = relay.tls;
      if (tls) for (const s of streams) s.reloadCertificate(tls);
      return;
    }
    applyAuthFiles(relay.credentials, material);
    relay.tls = nextTls;
    if (next !== this.config) this.applyConfig(next);
  }

  private applyConfig(next: RelayConfig): void {
    const { log } = this;
    const { turn } = this.relay;
    const ctx = turn.ctx;
    const prev = this.config;
    for (const { field, effect } of unappliedChanges(prev, next, this.relay.dataPlane.name))
      log.warn({ field }, UNAPPLIED_MESSAGE[effect]);
    this.config = next;
    ctx.config = next;
    ctx.policy.update(policyOptions(next));
    turn.revalidatePeers();
    ctx.ports.setRange(next.relay.portRange);
    ctx.topUsers.setK(next.metrics.perUserTopK);
    if (prev.limits.maxBitrateKbps !== next.limits.maxBitrateKbps) turn.setMaxBitrate(next.limits.maxBitrateKbps);
    if (prev.auth.nonceLifetimeSeconds !== next.auth.nonceLifetimeSeconds) {
      ctx.nonces = nonceIssuer(next.auth);
    }
    if (prev.limits.unauthenticatedResponsesPerSecond !== next.limits.unauthenticatedResponsesPerSecond) {
      ctx.reflection = new UnauthenticatedResponseLimiter({ perSecond: next.limits.unauthenticatedResponsesPerSecond });
    }
    if (
      prev.auth.maxFailuresPerIp !== next.auth.maxFailuresPerIp ||
      prev.auth.failureWindowSeconds !== next.auth.failureWindowSeconds
    ) {
      ctx.limiter = failureLimiter(next.auth);
    }
    log.level = next.log.level;
    if (!isDeepStrictEqual(watchedPaths(prev, this.configPath), watchedPaths(next, this.configPath))) this.rewatch();
    log.info('config reloaded');
  }

  private rewatch(): void {
    this.watcher?.close();
    this.watcher = watchFiles(watchedPaths(this.config, this.configPath), () => {
      void this.reload();
    });
  }
}
