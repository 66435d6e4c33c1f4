// Binds relay sockets inside the configured port range, including EVEN-PORT
// allocation and the RESERVATION-TOKEN handoff of port+1 (RFC 8656 §7.2).
import type { Socket as UdpSocket } from 'node:dgram';
import { createUdpSocket } from '../dataplane/udp-socket.js';
import { randomBytes } from 'node:crypto';

/** How long a reserved port+1 stays held for a later Allocate with the token (RFC 8656 suggests 30 s). */
export const RESERVATION_TTL_MS = 30_000;
const MAX_BIND_ATTEMPTS = 40;

export interface BoundRelay {
  socket: UdpSocket;
  port: number;
  family: 4 | 6;
}

interface Reservation extends BoundRelay {
  expiresAt: number;
}

function bindOnce(family: 4 | 6, host: string, port: number): Promise<UdpSocket | null> {
  return new Promise((resolve) => {
    const socket = createUdpSocket(family);
    const onError = () => {
      socket.close();
      resolve(null);
    };
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export class RelayPortAllocator {
  private readonly inUse = { 4: new Set<number>(), 6: new Set<number>() };
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private range: { min: number; max: number },
    private readonly maxReservations: () => number,
  ) {}

  setRange(range: { min: number; max: number }): void {
    this.range = range;
  }

  get reservationCount(): number {
    return this.reservations.size;
  }

  /** Binds a relay socket; null when no port could be found (the caller answers 508). */
  async bind(
    family: 4 | 6,
    host: string,
    opts: { even?: boolean; reserveNext?: boolean } = {},
  ): Promise<{ relay: BoundRelay; token?: Buffer } | null> {
    const { min, max } = this.range;
    const span = max - min + 1;
    const used = this.inUse[family];
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
      let port = min + Math.floor(Math.random() * span);
      if (opts.even && port % 2 === 1) port = port + 1 <= max ? port + 1 : port - 1;
      if (port < min || port > max || used.has(port)) continue;
      if (opts.reserveNext && (port + 1 > max || used.has(port + 1))) continue;
      used.add(port);
      const socket = await bindOnce(family, host, port);
      if (!socket) {
        used.delete(port);
        continue;
      }
      const relay: BoundRelay = { socket, port, family };
      if (!opts.reserveNext) return { relay };
      if (this.reservations.size >= this.maxReservations()) {
        this.release(relay);
        return null;
      }
      used.add(port + 1);
      const next = await bindOnce(family, host, port + 1);
      if (!next) {
        used.delete(port + 1);
        this.release(relay);
        continue;
      }
      const token = randomBytes(8);
      this.reservations.set(token.toString('hex'), {
        socket: next,
        port: port + 1,
        family,
        expiresAt: Date.now() + RESERVATION_TTL_MS,
      });
      return { relay, token };
    }
    return null;
  }

  /** Takes over the socket reserved under `tokenHex`; null if unknown or expired. */
  claim(tokenHex: string): BoundRelay | null {
    const r = this.reservations.get(tokenHex);
    if (!r) return null;
    this.reservations.delete(tokenHex);
    if (r.expiresAt < Date.now()) {
      this.release(r);
      return null;
    }
    return { socket: r.socket, port: r.port, family: r.family };
  }

  /** Whether a relay socket of this relay is bound to the port (either family). */
  isBound(port: number): boolean {
    return this.inUse[4].has(port) || this.inUse[6].has(port);
  }

  /** Marks the port free again; the socket itself is closed by whoever owns it (data plane or here). */
  free(family: 4 | 6, port: number): void {
    this.inUse[family].delete(port);
  }

  /** Closes a relay socket nobody took over yet and frees its port. */
  release(r: BoundRelay): void {
    try {
      r.socket.close();
    } catch {
      /* already closed */
    }
    this.free(r.family, r.port);
  }

  sweep(nowMs: number): void {
    for (const [token, r] of this.reservations) {
      if (r.expiresAt < nowMs) {
        this.reservations.delete(token);
        this.release(r);
      }
    }
  }

  close(): void {
    for (const r of this.reservations.values()) this.release(r);
    this.reservations.clear();
  }
}
