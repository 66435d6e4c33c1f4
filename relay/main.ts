// Starts the relay: buildRelay() brings up the server from the config
// (auth, policy, data plane, TURN server, listeners, admin endpoint), and a
// RelayReloader applies later changes to the config, auth and TLS files live.
// This module adds what a running relay does as a whole: the "relay started"
// line, drain and close.
import type { RelayConfig } from './config/schema.js';
import { buildRelay, type ListenerInfo } from './build-relay.js';
import { RelayReloader } from './reloader.js';
import type { TurnServer } from './server/turn-server.js';
import { createLogger, type Logger } from '../shared/log.js';

export type { ListenerInfo } from './build-relay.js';

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

export async function startRelay(opts: {
  config: RelayConfig;
  configPath?: string;
  log?: Logger;
}): Promise<RelayServer> {
  const log = opts.log ?? createLogger('relay', opts.config.log.level);
  const relay = await buildRelay(opts.config, log);
  const { turn, allocations, listeners, admin, dataPlane } = relay;
  const ctx = turn.ctx;
  const reloader = new RelayReloader(relay, opts.config, opts.configPath, log);

  const adminInfo = { host: admin.host, port: admin.port };
  // Always written, whatever log.level says: parent processes read the actual
  // ports from this line.
  log.child({}, { level: 'info' }).info(
    {
      listeners,
      admin: adminInfo,
      dataPlane: dataPlane.name,
      threads: dataPlane.threads,
      coalesceMicros: dataPlane.coalesceMicros, // undefined on the JavaScript plane: left out of the line
    },
    'relay started',
  );

  let closed = false;
  return {
    listeners,
    admin: adminInfo,
    turn,
    reload: () => reloader.reload(),
    async drain() {
      ctx.draining = true;
      const { gracePeriodSeconds } = ctx.config.drain;
      const graceMs = gracePeriodSeconds * 1000;
      log.info({ allocations: allocations.size, graceSeconds: gracePeriodSeconds }, 'draining: no new allocations');
      const deadline = Date.now() + graceMs;
      while (allocations.size > 0 && Date.now() < deadline && !closed) {
        await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, deadline - Date.now()))));
      }
      log.info({ allocations: allocations.size }, 'drain finished');
    },
    async close() {
      if (closed) return;
      closed = true;
      reloader.close();
      await relay.close();
    },
  };
}
