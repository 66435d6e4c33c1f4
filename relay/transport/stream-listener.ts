// TCP and TLS client listeners. Every raw accept (for TLS: before the
// handshake) enters the relay-wide connection table, which enforces the
// connection limits, the first-message deadline and eviction of the oldest
// unauthenticated connection. A TLS connection gets its TLS state only once
// its first bytes arrive: Node gives every TLS socket a ~80 kB read buffer
// and handshake buffer as soon as it reads, even for a peer that only
// connects and closes, and glibc keeps that memory after the socket is gone,
// so handshake-less churn made the RSS grow by about 1 GB per 10,000
// concurrent sockets. A socket that never speaks now costs a plain TCP socket. TLS: 1.2+ with AEAD-only ECDHE suites, from
// cert/key files; reloadCertificate() swaps the SecureContext so new
// handshakes use the new certificate while live connections stay up.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { TurnServer } from '../server/turn-server.js';
import { countError } from '../server/stats.js';
import { StreamClient, type StreamLimits } from './stream-client.js';
import type { ConnectionTable, TrackedConnection } from './connection-table.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * TLS 1.3's suites (all AEAD) and, for TLS 1.2, forward-secret ECDHE key
 * exchange with AEAD ciphers only: the widely used "intermediate" profile.
 * No CBC, CCM, ARIA, Camellia, static RSA or finite-field DHE.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

function secureContextOptions(tls: TlsMaterial) {
  return { cert: tls.cert, key: tls.key, minVersion: tls.minVersion, ciphers: TLS_CIPHERS };
}

const connectionKey = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

export class StreamListener {
  port = 0;
  readonly clients = new Set<StreamClient>();
  private readonly sockets = new Set<Socket>();
  /** TLS connections between raw accept and the end of the handshake, by remote address and port. */
  private readonly handshaking = new Map<string, TrackedConnection>();

  private constructor(
    readonly protocol: 'tcp' | 'tls',
    readonly host: string,
    private readonly server: Server,
    /** Handshakes only (never listens): raw sockets are handed to it once they have sent something. */
    private readonly tlsServer: TlsServer | undefined,
    private readonly turn: TurnServer,
    private readonly table: ConnectionTable,
    private readonly limits: StreamLimits,
  ) {
    const guard = turn.ctx.guard;
    server.on(
      'connection',
      guard.wrap(`${protocol}_connection`, (socket: Socket) => {
        const conn = table.admit(socket);
        if (!conn) {
          countError(turn.ctx.stats, 'connection_limit');
          socket.destroy();
          return;
        }
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        if (!tlsServer) {
          this.adopt(socket, conn);
          return;
        }
        const key = connectionKey(socket);
        this.handshaking.set(key, conn);
        socket.once('close', () => {
          if (this.handshaking.get(key) === conn) this.handshaking.delete(key);
        });
        socket.on('error', () => {
          /* 'close' follows */
        });
        socket.once(
          'data',
          guard.wrap('tls_first_bytes', (chunk: Buffer) => {
            // The TLS socket takes over the handle and first replays what the raw socket has buffered.
            socket.pause();
            socket.unshift(chunk);
            tlsServer.emit('connection', socket);
          }),
        );
      }),
    );
    if (tlsServer) {
      tlsServer.on(
        'secureConnection',
        guard.wrap('tls_secure_connection', (tlsSocket: TLSSocket) => {
          const key = connectionKey(tlsSocket);
          const conn = this.handshaking.get(key);
          this.handshaking.delete(key);
          if (!conn || conn.released) {
            tlsSocket.destroy();
            return;
          }
          this.adopt(tlsSocket, conn);
        }),
      );
      // Node leaves a TLS socket that failed (or timed out) in its handshake
      // open when this event has a listener: destroy it, or it and its
      // OpenSSL state stay until the peer goes away.
      tlsServer.on('tlsClientError', (_err: Error, tlsSocket: TLSSocket) => {
        countError(turn.ctx.stats, 'tls_handshake');
        tlsSocket.destroy();
      });
    }
    server.on('error', () => countError(turn.ctx.stats, 'listener'));
  }

  private adopt(socket: Socket, conn: TrackedConnection): void {
    const client = new StreamClient(this.protocol, socket, this.turn, this.limits, {
      spoke: () => this.table.spoke(conn),
      authenticated: () => this.table.markAuthenticated(conn),
    });
    this.clients.add(client);
    socket.once('close', () => this.clients.delete(client));
  }

  static async start(
    turn: TurnServer,
    protocol: 'tcp' | 'tls',
    host: string,
    port: number,
    table: ConnectionTable,
    limits: StreamLimits,
    tls?: TlsMaterial,
  ): Promise<StreamListener> {
    const tlsServer =
      protocol === 'tls'
        ? createTlsServer({ ...secureContextOptions(tls!), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS })
        : undefined;
    const server = createTcpServer();
    const listener = new StreamListener(protocol, host, server, tlsServer, turn, table, limits);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    listener.port = typeof addr === 'object' && addr ? addr.port : port;
    return listener;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  reloadCertificate(tls: TlsMaterial): void {
    this.tlsServer?.setSecureContext(secureContextOptions(tls));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
