// The native data plane (relay.dataPlane: native) behind the DataPlane
// interface. UDP clients' allocations forward in C++ on the plane's own
// thread (recvmmsg/sendmmsg); allocations of TCP/TLS clients stay on the
// JavaScript plane, because their bytes live in Node streams anyway.
import type { Socket as UdpSocket } from 'node:dgram';
import { JsDataPlane } from '../js-data-plane.js';
import type { HandlerGuard } from '../../handler-guard.js';
import type {
  ClientSink, DataPlane, DataPlaneCounters, DirectionCounters, RelayEndpoint, RelayEndpointSpec,
} from '../types.js';
import { loadNativeAddon, NativeCounter, UsageIndex, type NativeAddon, type PlaneHandle } from './native-addon.js';

export type PacketHandler = (datagram: Buffer, address: string, port: number) => void;

/**
 * The fd of a bound dgram socket. Node has no public accessor; its socket
 * state (behind a symbol) holds the UDP handle, whose `fd` getter is public
 * on the handle. Fails loudly if a Node release changes that.
 */
function socketFd(socket: UdpSocket): number {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } }>)[state]?.handle : undefined;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('native data plane: cannot read the file descriptor of a Node UDP socket (unsupported Node version?)');
  return fd;
}

/** A client-facing UDP listener socket owned by the native plane. */
export class NativeListener {
  constructor(private readonly plane: NativeDataPlane, readonly id: number) {}

  send(message: Buffer, port: number, address: string): void {
    this.plane.call((a, h) => a.sendFromListener(h, this.id, message, address, port));
  }

  sink(address: string, port: number): ClientSink {
    return new NativeUdpSink(this, address, port);
  }

  /** Installs (or with null removes) the native route from this client 5-tuple to its allocation. */
  route(address: string, port: number, endpoint: RelayEndpoint | null): void {
    const relayId = endpoint instanceof NativeRelayEndpoint ? endpoint.id : 0;
    this.plane.call((a, h) => a.setRoute(h, this.id, address, port, relayId));
  }

  close(): Promise<void> {
    this.plane.detachListener(this.id);
    return Promise.resolve();
  }
}

/** Peer traffic for a UDP client of a native listener; forwarded natively, so send() is only a fallback. */
export class NativeUdpSink implements ClientSink {
  readonly transport = 'udp';
  readonly padChannelData = false;

  constructor(readonly listener: NativeListener, readonly address: string, readonly port: number) {}

  send(header: Buffer, payload: Buffer, padding: number): boolean {
    this.listener.send(Buffer.concat([header, payload, Buffer.alloc(padding & 3)]), this.port, this.address);
    return true;
  }
}

class NativeRelayEndpoint implements RelayEndpoint {
  /** Mirror of the installed permissions, for the Send-indication check in JS. */
  private readonly permissions = new Map<string, number>();
  private closed = false;
  /** Last usage read from the plane; what usage() returns once the endpoint (or the plane) is closed. */
  private lastUsage: number[] = [0, 0, 0, 0];

  constructor(private readonly plane: NativeDataPlane, readonly id: number) {}

  permit(peerIp: string, expiresAtMs: number): void {
    this.permissions.set(peerIp, expiresAtMs);
    this.call((a, h) => a.permit(h, this.id, peerIp, expiresAtMs));
  }

  revoke(peerIp: string): void {
    this.permissions.delete(peerIp);
    this.call((a, h) => a.revoke(h, this.id, peerIp));
  }

  hasPermission(peerIp: string, nowMs: number): boolean {
    const exp = this.permissions.get(peerIp);
    return exp !== undefined && exp >= nowMs;
  }

  bindChannel(channel: number, peerIp: string, peerPort: number, expiresAtMs: number): void {
    this.call((a, h) => a.bindChannel(h, this.id, channel, peerIp, peerPort, expiresAtMs));
  }

  unbindChannel(channel: number): void {
    this.call((a, h) => a.unbindChannel(h, this.id, channel));
  }

  setMaxBitrate(kbps: number): void {
    this.call((a, h) => a.setBitrate(h, this.id, kbps));
  }

  fromClientChannelData(frame: Buffer): void {
    this.call((a, h) => a.channelData(h, this.id, frame));
  }

  fromClientSend(peerIp: string, peerPort: number, payload: Buffer): void {
    this.call((a, h) => a.sendToPeer(h, this.id, peerIp, peerPort, payload));
  }

  usage(): DirectionCounters {
    this.call((a, h) => { this.lastUsage = a.relayUsage(h, this.id); });
    const u = this.lastUsage;
    return {
      clientToPeerPackets: u[UsageIndex.clientToPeerPackets] ?? 0,
      clientToPeerBytes: u[UsageIndex.clientToPeerBytes] ?? 0,
      peerToClientPackets: u[UsageIndex.peerToClientPackets] ?? 0,
      peerToClientBytes: u[UsageIndex.peerToClientBytes] ?? 0,
    };
  }

  close(): void {
    if (this.closed) return;
    this.plane.call((a, h) => { this.lastUsage = a.closeRelay(h, this.id) ?? this.lastUsage; });
    this.closed = true;
    this.permissions.clear();
  }

  /** After close the endpoint is inert, like the JS one. */
  private call(fn: (addon: NativeAddon, handle: PlaneHandle) => void): void {
    if (!this.closed) this.plane.call(fn);
  }
}

export class NativeDataPlane implements DataPlane {
  readonly counters: DataPlaneCounters;
  private readonly addon: NativeAddon;
  private readonly handle: PlaneHandle;
  private readonly js: JsDataPlane;
  private readonly handlers = new Map<number, PacketHandler>();
  private closed = false;

  /** Throws (naming `npm run build:native`) when the addon is not built. */
  constructor(guard?: HandlerGuard) {
    this.js = new JsDataPlane(guard);
    this.addon = loadNativeAddon();
    this.handle = this.addon.create((listenerId, datagram, address, port) => this.handlers.get(listenerId)?.(datagram, address, port));
    this.counters = this.combinedCounters();
  }

  /** Runs an addon call unless the plane is closed (late teardown calls become no-ops). */
  call(fn: (addon: NativeAddon, handle: PlaneHandle) => void): void {
    if (!this.closed) fn(this.addon, this.handle);
  }

  /**
   * Takes over a bound listener socket: the plane reads it from now on and
   * hands STUN datagrams to `onPacket`; the Node socket is closed here.
   */
  adoptListener(socket: UdpSocket, onPacket: PacketHandler): NativeListener {
    const id = this.addon.addListener(this.handle, socketFd(socket));
    socket.close();
    this.handlers.set(id, onPacket);
    return new NativeListener(this, id);
  }

  detachListener(id: number): void {
    this.handlers.delete(id);
    this.call((a, h) => a.removeListener(h, id));
  }

  openRelay(spec: RelayEndpointSpec): RelayEndpoint {
    if (!(spec.sink instanceof NativeUdpSink)) return this.js.openRelay(spec);
    const { listener, address, port } = spec.sink;
    const id = this.addon.openRelay(this.handle, socketFd(spec.socket), listener.id, address, port, spec.maxBitrateKbps);
    spec.socket.close(); // the plane holds its own duplicate of the fd
    return new NativeRelayEndpoint(this, id);
  }

  /** Stops the plane's thread and closes every socket it owns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.addon.close(this.handle);
  }

  private combinedCounters(): DataPlaneCounters {
    const read = (i: number): number => (this.closed ? this.last[i] ?? 0 : (this.last = this.addon.counters(this.handle))[i] ?? 0);
    const js = this.js.counters;
    const udp = {} as DirectionCounters;
    for (const key of ['clientToPeerPackets', 'clientToPeerBytes', 'peerToClientPackets', 'peerToClientBytes'] as const) {
      Object.defineProperty(udp, key, { enumerable: true, get: () => read(NativeCounter[key]) + js.byTransport.udp[key] });
    }
    const counters = { byTransport: { udp, tcp: js.byTransport.tcp, tls: js.byTransport.tls } } as DataPlaneCounters;
    for (const key of ['droppedNoPermission', 'droppedNoChannel', 'droppedRateLimited', 'sendErrors'] as const) {
      Object.defineProperty(counters, key, { enumerable: true, get: () => read(NativeCounter[key]) + js[key] });
    }
    // STUN datagrams the plane could not queue for the JS thread (it was overloaded) count as backpressure drops.
    Object.defineProperty(counters, 'droppedBackpressure', {
      enumerable: true,
      get: () => read(NativeCounter.droppedBackpressure) + read(NativeCounter.upcallsDropped) + js.droppedBackpressure,
    });
    return counters;
  }

  private last: number[] = [];
}
