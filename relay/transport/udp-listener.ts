// UDP client listener. Demultiplexes on the first byte: ChannelData goes
// straight to the client's relay endpoint through a numeric-keyed route
// table (the hot path), STUN goes to the control plane. With the native data
// plane, the plane owns the socket, forwards ChannelData itself and hands
// only STUN up here.
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import { createUdpSocket } from '../dataplane/udp-socket.js';
import { transportAddressKey, type IpKey } from '../dataplane/address-keys.js';
import { UdpClientSink } from '../dataplane/client-sinks.js';
import type { ClientSink } from '../dataplane/types.js';
import type { NativeDataPlane, NativeListener } from '../dataplane/native/native-data-plane.js';
import type { Allocation } from '../server/allocation.js';
import { fiveTupleKey, type ClientConnection } from '../server/client-connection.js';
import type { TurnServer } from '../server/turn-server.js';
import { countError } from '../server/stats.js';

const LISTENER_SOCKET_BUFFER = 4 * 1024 * 1024;

class UdpClient implements ClientConnection {
  readonly transport = 'udp' as const;
  readonly key: string;
  readonly sink: ClientSink;
  allocation: Allocation | null = null;

  constructor(
    private readonly listener: UdpListener,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly routeKey: IpKey,
  ) {
    this.key = fiveTupleKey('udp', listener.host, listener.port, remoteAddress, remotePort);
    this.sink = listener.native ? listener.native.sink(remoteAddress, remotePort) : new UdpClientSink(listener.socket, remoteAddress, remotePort);
  }

  get localAddress(): string { return this.listener.host; }
  get localPort(): number { return this.listener.port; }

  isClosed(): boolean {
    return false;
  }

  sendControl(message: Buffer): void {
    if (this.listener.native) this.listener.native.send(message, this.remotePort, this.remoteAddress);
    else this.listener.socket.send(message, this.remotePort, this.remoteAddress);
  }

  onAuthenticated(): void { /* datagrams hold no connection slot */ }

  onAllocationChange(allocation: Allocation | null): void {
    this.allocation = allocation;
    if (allocation) this.listener.routes.set(this.routeKey, this);
    else this.listener.routes.delete(this.routeKey);
    this.listener.native?.route(this.remoteAddress, this.remotePort, allocation?.endpoint ?? null);
  }
}

export class UdpListener {
  /** Clients that hold an allocation, by packed address+port. */
  readonly routes = new Map<IpKey, UdpClient>();
  port = 0;
  /** Set when the native data plane owns the socket (relay.dataPlane: native). */
  native: NativeListener | null = null;

  private constructor(readonly socket: UdpSocket, readonly host: string, private readonly server: TurnServer) {
    socket.on('message', server.ctx.guard.wrap('udp_message', (msg: Buffer, rinfo: RemoteInfo) => this.onMessage(msg, rinfo)));
    // Errors on an unconnected UDP socket (e.g. ICMP feedback) must not kill the listener.
    socket.on('error', () => countError(server.ctx.stats, 'udp_listener'));
  }

  static async start(server: TurnServer, host: string, port: number, nativePlane?: NativeDataPlane): Promise<UdpListener> {
    const socket = createUdpSocket(host.includes(':') ? 6 : 4);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: host, exclusive: true }, () => { socket.off('error', reject); resolve(); });
    });
    // One listener socket carries every UDP client: larger kernel buffers absorb bursts
    // (Linux caps these at net.core.rmem_max/wmem_max; failure to raise them is harmless).
    for (const set of [socket.setRecvBufferSize, socket.setSendBufferSize]) {
      try { set.call(socket, LISTENER_SOCKET_BUFFER); } catch { /* keep the default */ }
    }
    const listener = new UdpListener(socket, host, server);
    listener.port = socket.address().port;
    if (nativePlane) {
      listener.native = nativePlane.adoptListener(socket, server.ctx.guard.wrap('udp_message', (msg: Buffer, address: string, port: number) => listener.onMessage(msg, { address, port })));
    }
    return listener;
  }

  private onMessage(msg: Buffer, rinfo: Pick<RemoteInfo, 'address' | 'port'>): void {
    if (msg.length === 0) return;
    const top = msg[0]! & 0xc0;
    const key = transportAddressKey(rinfo.address, rinfo.port);
    if (top === 0x40) {
      const client = this.routes.get(key);
      if (client) this.server.handleChannelData(msg, client);
      return;
    }
    if (top !== 0) return; // neither STUN nor ChannelData
    const client = this.routes.get(key) ?? new UdpClient(this, rinfo.address, rinfo.port, key);
    this.server.handleStun(msg, client);
  }

  close(): Promise<void> {
    if (this.native) return this.native.close();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

