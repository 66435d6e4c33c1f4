// TCP and TLS client listeners with connection limits (total and per IP).
// TLS: 1.2+ from cert/key files; reloadCertificate() swaps the SecureContext
// so new handshakes use the new certificate while live connections stay up.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { TurnServer } from '../server/turn-server.js';
import { countError } from '../server/stats.js';
import { StreamClient, type StreamLimits } from './stream-client.js';

export interface ConnectionLimits extends StreamLimits {
  maxConnections(): number;
  maxConnectionsPerIp(): number;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Shared across all stream listeners of one relay, so limits are per relay. */
export class ConnectionCounter {
  total = 0;
  readonly perIp = new Map<string, number>();

  tryAcquire(ip: string, limits: ConnectionLimits): boolean {
    const n = this.perIp.get(ip) ?? 0;
    const max = limits.maxConnections();
    const maxPerIp = limits.maxConnectionsPerIp();
    if ((max > 0 && this.total >= max) || (maxPerIp > 0 && n >= maxPerIp)) return false;
    this.total++;
    this.perIp.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
  }
}

export class StreamListener {
  port = 0;
  readonly clients = new Set<StreamClient>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly protocol: 'tcp' | 'tls',
    readonly host: string,
    private readonly server: Server | TlsServer,
    private readonly turn: TurnServer,
    private readonly counter: ConnectionCounter,
    private readonly limits: ConnectionLimits,
  ) {
    // Raw TCP accept (also for TLS, before the handshake): apply connection limits here.
    server.on('connection', (socket: Socket) => {
      const ip = socket.remoteAddress ?? '';
      if (!counter.tryAcquire(ip, limits)) {
        countError(turn.ctx.stats, 'connection_limit');
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => { counter.release(ip); this.sockets.delete(socket); });
      // TLS sockets are adopted on 'secureConnection'; handshakeTimeout bounds the wait.
      if (protocol === 'tcp') this.adopt(socket);
    });
    if (protocol === 'tls') {
      server.on('secureConnection', (tlsSocket: TLSSocket) => this.adopt(tlsSocket));
      server.on('tlsClientError', () => countError(turn.ctx.stats, 'tls_handshake'));
    }
    server.on('error', () => countError(turn.ctx.stats, 'listener'));
  }

  private adopt(socket: Socket): void {
    const client = new StreamClient(this.protocol, socket, this.turn, this.limits);
    this.clients.add(client);
    socket.once('close', () => this.clients.delete(client));
  }

  static async start(turn: TurnServer, protocol: 'tcp' | 'tls', host: string, port: number, counter: ConnectionCounter,
    limits: ConnectionLimits, tls?: TlsMaterial): Promise<StreamListener> {
    const server = protocol === 'tls'
      ? createTlsServer({ cert: tls!.cert, key: tls!.key, minVersion: tls!.minVersion, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS })
      : createTcpServer();
    const listener = new StreamListener(protocol, host, server, turn, counter, limits);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive: true }, () => { server.off('error', reject); resolve(); });
    });
    const addr = server.address();
    listener.port = typeof addr === 'object' && addr ? addr.port : port;
    return listener;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  reloadCertificate(tls: TlsMaterial): void {
    if (this.protocol !== 'tls') return;
    (this.server as TlsServer).setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
