// Every TCP/TLS connection of one relay, from the raw accept on. A connection
// is "unauthenticated" until one of its requests passes the credential
// check; until its first STUN message (for TLS: including the handshake) it
// also runs against a deadline. When the table is full, room for a new
// connection is made by closing the oldest unauthenticated one, so sockets
// that never speak (or never log in) cannot lock out clients that do.
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  maxConnections(): number;
  maxConnectionsPerIp(): number;
  /** From accept to the first STUN message (TLS: handshake included). */
  firstMessageTimeoutMs(): number;
}

export interface TrackedConnection {
  readonly socket: Socket;
  readonly ip: string;
  authenticated: boolean;
  timer: NodeJS.Timeout | undefined;
  released: boolean;
}

/** Counters for metrics, plain numbers. */
export interface ConnectionTableStats {
  /** Closed to make room for a new connection. */
  evicted: number;
  /** Refused: per-IP limit, or full of authenticated connections. */
  refused: number;
  /** Closed because no STUN message came before the deadline. */
  timedOut: number;
}

export class ConnectionTable {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly unauthenticatedSet = new Set<TrackedConnection>();
  readonly stats: ConnectionTableStats = { evicted: 0, refused: 0, timedOut: 0 };

  constructor(private readonly limits: ConnectionLimits) {}

  get size(): number {
    return this.total;
  }

  get unauthenticated(): number {
    return this.unauthenticatedSet.size;
  }

  /** Admits a freshly accepted socket (evicting if needed) or returns null; the caller destroys refused sockets. */
  admit(socket: Socket): TrackedConnection | null {
    const ip = socket.remoteAddress ?? '';
    const n = this.perIp.get(ip) ?? 0;
    const maxPerIp = this.limits.maxConnectionsPerIp();
    if (maxPerIp > 0 && n >= maxPerIp) {
      this.stats.refused++;
      return null;
    }
    const max = this.limits.maxConnections();
    if (max > 0 && this.total >= max) {
      const oldest = this.unauthenticatedSet.values().next().value;
      if (oldest === undefined) {
        this.stats.refused++;
        return null;
      }
      this.stats.evicted++;
      this.close(oldest);
    }
    const conn: TrackedConnection = { socket, ip, authenticated: false, timer: undefined, released: false };
    this.total++;
    this.perIp.set(ip, n + 1);
    this.unauthenticatedSet.add(conn);
    conn.timer = setTimeout(() => {
      this.stats.timedOut++;
      this.close(conn);
    }, this.limits.firstMessageTimeoutMs());
    conn.timer.unref();
    socket.once('close', () => this.release(conn));
    return conn;
  }

  /** The connection carried a STUN message: its deadline is over (idle timeouts take over). */
  spoke(conn: TrackedConnection): void {
    clearTimeout(conn.timer);
    conn.timer = undefined;
  }

  /** A request on the connection passed authentication: it is never evicted. */
  markAuthenticated(conn: TrackedConnection): void {
    conn.authenticated = true;
    this.unauthenticatedSet.delete(conn);
  }

  private close(conn: TrackedConnection): void {
    this.release(conn);
    conn.socket.destroy();
  }

  private release(conn: TrackedConnection): void {
    if (conn.released) return;
    conn.released = true;
    clearTimeout(conn.timer);
    this.unauthenticatedSet.delete(conn);
    this.total--;
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(conn.ip, n);
    else this.perIp.delete(conn.ip);
  }
}
