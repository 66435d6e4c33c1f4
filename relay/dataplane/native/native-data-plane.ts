// The native data plane behind the DataPlane interface. UDP listeners are
// sockets of the C++ plane (one SO_REUSEPORT socket per thread); allocations
// of their clients forward in C++ on the thread that owns the client's socket.
// Allocations of TCP/TLS clients stay on the JavaScript plane, because their
// bytes live in Node streams anyway.
import type { Socket as UdpSocket } from 'node:dgram';
import { availableCpus } from '../available-cpus.js';
import { JsDataPlane } from '../js-data-plane.js';
import type { HandlerGuard } from '../../handler-guard.js';
import type {
  ClientSink,
  DataPlane,
  DataPlaneCounters,
  DirectionCounters,
  PlaneUdpListener,
  RelayEndpoint,
  RelayEndpointSpec,
  UdpClientPort,
  UdpListenerEvents,
} from '../types.js';
import {
  loadNativeAddon,
  NativeCounter,
  nativeAddonPath,
  UsageIndex,
  type NativeAddon,
  type PlaneHandle,
} from './native-addon.js';

type Call = (fn: (addon: NativeAddon, handle: PlaneHandle) => void) => void;

/**
 * The fd of a bound dgram socket. Node has no public accessor; its socket
 * state (behind a symbol) holds the UDP handle, whose `fd` getter is public
 * on the handle. Fails loudly if a Node release changes that.
 */
function socketFd(socket: UdpSocket): number {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state
    ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } }>)[state]?.handle
    : undefined;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new Error(
      'native data plane: cannot read the file descriptor of a Node UDP socket (unsupported Node version?)',
    );
  return fd;
}

/** Where a native UDP client lives: the plane allocates its relay on that lane's thread. */
interface NativeClient {
  listenerId: number;
  lane: number;
  address: string;
  port: number;
}

class NativeListener implements PlaneUdpListener {
  private closed = false;

  constructor(
    private readonly plane: NativeDataPlane,
    readonly id: number,
    readonly host: string,
    readonly port: number,
  ) {}

  client(address: string, port: number, lane: number): UdpClientPort {
    const where: NativeClient = { listenerId: this.id, lane, address, port };
    const send = (message: Buffer) => {
      if (!this.closed) this.plane.call((a, h) => a.sendFromListener(h, this.id, lane, message, address, port));
    };
    // Peer traffic is forwarded natively; send() only serves a caller that writes to the sink directly.
    const sink: ClientSink = {
      transport: 'udp',
      padChannelData: false,
      send: (header, payload, padding) => {
        send(Buffer.concat([header, payload, Buffer.alloc(padding & 3)]));
        return true;
      },
    };
    this.plane.registerClient(sink, where);
    return {
      sink,
      sendControl: send,
      route: (endpoint) => {
        if (this.closed) return;
        const relayId = endpoint ? this.plane.relayIdOf(endpoint) : 0;
        this.plane.call((a, h) => a.setRoute(h, this.id, lane, address, port, relayId));
      },
    };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.plane.detachListener(this.id);
    }
    return Promise.resolve();
  }
}

class NativeRelayEndpoint implements RelayEndpoint {
  /** Mirror of the installed permissions, for the Send-indication check in JS. */
  private readonly permissions = new Map<string, number>();
  private closed = false;
  /** Last usage read from the plane; what usage() returns once the endpoint (or the plane) is closed. */
  private lastUsage: number[] = [0, 0, 0, 0];

  constructor(
    private readonly planeCall: Call,
    readonly id: number,
  ) {}

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
    this.call((a, h) => {
      this.lastUsage = a.relayUsage(h, this.id);
    });
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
    this.call((a, h) => {
      this.lastUsage = a.closeRelay(h, this.id) ?? this.lastUsage;
    });
    this.closed = true;
    this.permissions.clear();
  }

  /** After close the endpoint is inert, like the JS one. */
  private call(fn: (addon: NativeAddon, handle: PlaneHandle) => void): void {
    if (!this.closed) this.planeCall(fn);
  }
}

/**
 * Pause (µs) a thread takes after a wakeup that relayed without a backlog, so the next one
 * shares its system calls among several datagrams; adds at most this much delay per hop.
 */
export const DEFAULT_COALESCE_MICROS = 1000;

export interface NativePlaneOptions {
  /** Epoll threads; default: the CPUs available to the process. */
  threads?: number;
  /** Default DEFAULT_COALESCE_MICROS; 0 turns the pause off. */
  coalesceMicros?: number;
  addonPath?: string;
  /** Catches what a socket handler of the JavaScript side (TCP/TLS relays) throws. */
  guard?: HandlerGuard;
}

export class NativeDataPlane implements DataPlane {
  readonly name = 'native';
  readonly counters: DataPlaneCounters;
  readonly threads: number;
  readonly coalesceMicros: number;
  private readonly addon: NativeAddon;
  private readonly handle: PlaneHandle;
  private readonly js: JsDataPlane;
  private readonly stun = new Map<number, UdpListenerEvents['stun']>();
  /** Sinks this plane made for its UDP clients; any other sink (TCP/TLS) relays on the JS plane. */
  private readonly clients = new WeakMap<ClientSink, NativeClient>();
  private readonly relays = new WeakMap<RelayEndpoint, { id: number; lane: number }>();
  private closed = false;
  private last: number[] = [];

  /** Throws (naming `npm run build:native`) when the addon is not built. */
  constructor(options: NativePlaneOptions = {}) {
    this.js = new JsDataPlane(options.guard);
    this.addon = loadNativeAddon(options.addonPath ?? nativeAddonPath());
    this.threads = Math.max(1, Math.floor(options.threads ?? availableCpus()));
    this.coalesceMicros = options.coalesceMicros ?? DEFAULT_COALESCE_MICROS;
    this.handle = this.addon.create(
      this.threads,
      (listenerId, lane, datagram, address, port) => this.stun.get(listenerId)?.(datagram, address, port, lane),
      this.coalesceMicros,
    );
    this.counters = this.combinedCounters();
  }

  /** Runs an addon call unless the plane is closed (late teardown calls become no-ops). */
  readonly call: Call = (fn) => {
    if (!this.closed) fn(this.addon, this.handle);
  };

  listenUdp(host: string, port: number, events: UdpListenerEvents): Promise<PlaneUdpListener> {
    try {
      const [id, bound] = this.addon.listen(this.handle, host, port);
      this.stun.set(id, events.stun);
      return Promise.resolve(new NativeListener(this, id, host, bound));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  registerClient(sink: ClientSink, where: NativeClient): void {
    this.clients.set(sink, where);
  }

  relayIdOf(endpoint: RelayEndpoint): number {
    return this.relays.get(endpoint)?.id ?? 0;
  }

  /** The thread an endpoint of this plane relays on (undefined: a TCP/TLS endpoint, on the JS side), for tests. */
  laneOf(endpoint: RelayEndpoint): number | undefined {
    return this.relays.get(endpoint)?.lane;
  }

  detachListener(id: number): void {
    this.stun.delete(id);
    this.call((a, h) => a.removeListener(h, id));
  }

  openRelay(spec: RelayEndpointSpec): RelayEndpoint {
    const client = this.clients.get(spec.sink);
    if (!client) return this.js.openRelay(spec);
    const id = this.addon.openRelay(
      this.handle,
      client.lane,
      socketFd(spec.socket),
      client.listenerId,
      client.address,
      client.port,
      spec.maxBitrateKbps,
      spec.ownRelayedAddress?.address,
      spec.ownRelayedAddress?.port,
    );
    spec.socket.close(); // the plane holds its own duplicate of the fd
    const endpoint = new NativeRelayEndpoint(this.call, id);
    this.relays.set(endpoint, { id, lane: client.lane });
    return endpoint;
  }

  /** Relays per thread, for tests and diagnostics. */
  relaysPerThread(): number[] {
    return this.closed ? [] : this.addon.relaysPerThread(this.handle);
  }

  /** Bytes held by STUN datagrams waiting for the JS thread (also after close, until they are freed), for tests. */
  upcallBytes(): number {
    return this.addon.upcallBytes(this.handle);
  }

  /** Stops the plane's threads and closes every socket it owns. */
  close(): void {
    if (this.closed) return;
    this.last = this.addon.counters(this.handle);
    this.closed = true;
    this.stun.clear();
    this.addon.close(this.handle);
    this.js.close();
  }

  private combinedCounters(): DataPlaneCounters {
    const read = (i: number): number =>
      this.closed ? (this.last[i] ?? 0) : ((this.last = this.addon.counters(this.handle))[i] ?? 0);
    const js = this.js.counters;
    const udp = {} as DirectionCounters;
    for (const key of [
      'clientToPeerPackets',
      'clientToPeerBytes',
      'peerToClientPackets',
      'peerToClientBytes',
    ] as const) {
      Object.defineProperty(udp, key, {
        enumerable: true,
        get: () => read(NativeCounter[key]) + js.byTransport.udp[key],
      });
    }
    const counters = { byTransport: { udp, tcp: js.byTransport.tcp, tls: js.byTransport.tls } } as DataPlaneCounters;
    for (const key of [
      'droppedNoPermission',
      'droppedNoChannel',
      'droppedRateLimited',
      'droppedHandover',
      'sendErrors',
      'deliveredInProcess',
      'coalescePauses',
    ] as const) {
      Object.defineProperty(counters, key, { enumerable: true, get: () => read(NativeCounter[key]) + js[key] });
    }
    // STUN datagrams the plane could not queue for the JS thread (it was this far behind: the queue
    // was full by count or by bytes) count as backpressure drops.
    Object.defineProperty(counters, 'droppedBackpressure', {
      enumerable: true,
      get: () => read(NativeCounter.droppedBackpressure) + read(NativeCounter.upcallsDropped) + js.droppedBackpressure,
    });
    return counters;
  }
}
