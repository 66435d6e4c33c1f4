// One TCP or TLS client connection: frames the byte stream, feeds STUN to
// the control plane and ChannelData to the relay endpoint, enforces the idle
// timeout for connections without an allocation and the send buffer cap.
import type { Socket } from 'node:net';
import { StreamClientSink } from '../dataplane/client-sinks.js';
import { FramingError, StreamFramer } from '../stun/stream-framer.js';
import type { Allocation } from '../server/allocation.js';
import { fiveTupleKey, type ClientConnection } from '../server/client-connection.js';
import type { TurnServer } from '../server/turn-server.js';
import { countError } from '../server/stats.js';

/** Functions, so each use reads the config in force (it may have been reloaded). */
export interface StreamLimits {
  idleTimeoutMs: () => number;
  maxBufferedBytes: () => number;
}

/** What the connection table wants to hear about this connection. */
export interface ConnectionEvents {
  /** The first STUN message arrived. */
  spoke(): void;
  /** A request passed authentication. */
  authenticated(): void;
}

export class StreamClient implements ClientConnection {
  readonly key: string;
  readonly sink: StreamClientSink;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  allocation: Allocation | null = null;
  private readonly framer: StreamFramer;

  private spoken = false;

  constructor(
    readonly transport: 'tcp' | 'tls',
    private readonly socket: Socket,
    private readonly server: TurnServer,
    private readonly limits: StreamLimits,
    private readonly events: ConnectionEvents,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.key = fiveTupleKey(transport, this.localAddress, this.localPort, this.remoteAddress, this.remotePort);
    this.sink = new StreamClientSink(transport, socket, limits.maxBufferedBytes);
    this.framer = new StreamFramer((frame, kind) => {
      if (kind === 'channel') {
        server.handleChannelData(frame, this);
        return;
      }
      if (!this.spoken) {
        this.spoken = true;
        events.spoke();
      }
      server.handleStun(frame, this);
    });
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs());
    const guard = server.ctx.guard;
    socket.on(
      'timeout',
      guard.wrap(`${transport}_timeout`, () => {
        if (!this.allocation) socket.destroy();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch (err) {
        countError(server.ctx.stats, err instanceof FramingError ? 'framing' : 'internal');
        socket.destroy();
      }
    });
    socket.on('error', () => {
      /* 'close' follows and cleans up */
    });
    socket.on(
      'close',
      guard.wrap(`${transport}_close`, () => server.clientClosed(this)),
    );
  }

  isClosed(): boolean {
    return this.socket.destroyed;
  }

  sendControl(message: Buffer): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength + message.length > this.limits.maxBufferedBytes()) {
      countError(this.server.ctx.stats, 'send_buffer_full');
      return;
    }
    this.socket.write(message);
  }

  onAuthenticated(): void {
    this.events.authenticated();
  }

  onAllocationChange(allocation: Allocation | null): void {
    this.allocation = allocation;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
