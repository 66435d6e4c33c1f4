// UDP client listener: the control plane's side of a plane-owned UDP socket.
// The data plane binds the socket(s), forwards ChannelData of clients that
// hold an allocation and hands STUN up here; this module turns each sending
// 5-tuple into a ClientConnection for the TURN server.
import type { DataPlane, PlaneUdpListener, UdpClientPort } from '../dataplane/types.js';
import type { Allocation } from '../server/allocation.js';
import { fiveTupleKey, type ClientConnection } from '../server/client-connection.js';
import type { TurnServer } from '../server/turn-server.js';
import { countError } from '../server/stats.js';

class UdpClient implements ClientConnection {
  readonly transport = 'udp' as const;
  readonly key: string;
  allocation: Allocation | null = null;

  constructor(
    private readonly listener: UdpListener,
    private readonly port: UdpClientPort,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    this.key = fiveTupleKey('udp', listener.host, listener.port, remoteAddress, remotePort);
  }

  get sink() {
    return this.port.sink;
  }
  get localAddress(): string {
    return this.listener.host;
  }
  get localPort(): number {
    return this.listener.port;
  }

  isClosed(): boolean {
    return false;
  }

  sendControl(message: Buffer): void {
    this.port.sendControl(message);
  }

  onAuthenticated(): void {
    /* datagrams hold no connection slot */
  }

  onAllocationChange(allocation: Allocation | null): void {
    this.allocation = allocation;
    this.listener.track(this, allocation !== null);
    this.port.route(allocation?.endpoint ?? null);
  }
}

export class UdpListener {
  /** Clients that hold an allocation, so their STUN requests find it again. */
  private readonly clients = new Map<string, UdpClient>();

  private constructor(private readonly plane: PlaneUdpListener) {}

  get host(): string {
    return this.plane.host;
  }
  get port(): number {
    return this.plane.port;
  }

  static async start(server: TurnServer, dataPlane: DataPlane, host: string, port: number): Promise<UdpListener> {
    // eslint-disable-next-line prefer-const -- read by the packet callback, which may run before it is assigned
    let listener: UdpListener | undefined;
    const plane = await dataPlane.listenUdp(host, port, {
      stun: server.ctx.guard.wrap('udp_message', (msg: Buffer, address: string, remotePort: number, lane: number) =>
        listener?.onStun(server, msg, address, remotePort, lane),
      ),
      error: () => countError(server.ctx.stats, 'udp_listener'),
    });
    listener = new UdpListener(plane);
    return listener;
  }

  track(client: UdpClient, withAllocation: boolean): void {
    if (withAllocation) this.clients.set(client.key, client);
    else if (this.clients.get(client.key) === client) this.clients.delete(client.key);
  }

  private onStun(server: TurnServer, msg: Buffer, address: string, port: number, lane: number): void {
    const key = fiveTupleKey('udp', this.host, this.port, address, port);
    const client = this.clients.get(key) ?? new UdpClient(this, this.plane.client(address, port, lane), address, port);
    server.handleStun(msg, client);
  }

  close(): Promise<void> {
    this.clients.clear();
    return this.plane.close();
  }
}
