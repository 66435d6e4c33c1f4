// The JavaScript plane's client-facing UDP listener: one Node socket. It
// demultiplexes on the first byte: ChannelData from a routed client goes
// straight to its relay endpoint through a numeric-keyed table (the hot
// path), STUN goes up to the control plane, anything else is dropped.
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import type { HandlerGuard } from '../handler-guard.js';
import { transportAddressKey, type IpKey } from './address-keys.js';
import { UdpClientSink } from './client-sinks.js';
import { createUdpSocket } from './udp-socket.js';
import type { PlaneUdpListener, RelayEndpoint, UdpClientPort, UdpListenerEvents } from './types.js';

/** Kernel buffers of the one socket that carries every UDP client (Linux caps them at net.core.[rw]mem_max). */
export const LISTENER_SOCKET_BUFFER = 4 * 1024 * 1024;

export class JsUdpListener implements PlaneUdpListener {
  private readonly routes = new Map<IpKey, RelayEndpoint>();

  private constructor(
    private readonly socket: UdpSocket,
    readonly host: string,
    readonly port: number,
    events: UdpListenerEvents,
    guard: HandlerGuard,
  ) {
    socket.on(
      'message',
      guard.wrap('udp_message', (msg: Buffer, rinfo: RemoteInfo) => {
        if (msg.length === 0) return;
        const top = msg[0]! & 0xc0;
        if (top === 0x40) this.routes.get(transportAddressKey(rinfo.address, rinfo.port))?.fromClientChannelData(msg);
        else if (top === 0) events.stun(msg, rinfo.address, rinfo.port, 0);
      }),
    );
    // Errors on an unconnected UDP socket (e.g. ICMP feedback) must not kill the listener.
    socket.on('error', events.error);
  }

  static async start(
    host: string,
    port: number,
    events: UdpListenerEvents,
    guard: HandlerGuard,
  ): Promise<JsUdpListener> {
    const socket = createUdpSocket(host.includes(':') ? 6 : 4);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: host, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    for (const set of [(n: number) => socket.setRecvBufferSize(n), (n: number) => socket.setSendBufferSize(n)]) {
      try {
        set(LISTENER_SOCKET_BUFFER);
      } catch {
        /* keep the default */
      }
    }
    return new JsUdpListener(socket, host, socket.address().port, events, guard);
  }

  client(address: string, port: number): UdpClientPort {
    const { socket, routes } = this;
    const key = transportAddressKey(address, port);
    return {
      sink: new UdpClientSink(socket, address, port),
      sendControl: (message) => socket.send(message, port, address),
      route: (endpoint) => {
        if (endpoint) routes.set(key, endpoint);
        else routes.delete(key);
      },
    };
  }

  close(): Promise<void> {
    this.routes.clear();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
