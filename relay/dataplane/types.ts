// The narrow interface between the control plane (allocations, permissions,
// channels, auth) and the data plane (moving relayed bytes). The control plane
// only installs and removes forwarding entries; everything per packet happens
// behind this interface, so a native implementation (recvmmsg/sendmmsg, GSO)
// can replace the JavaScript one without touching the server. Both planes own
// the client-facing UDP sockets, so STUN-versus-ChannelData demultiplexing
// happens inside the plane, where the per-packet work is.
import type { Socket as UdpSocket } from 'node:dgram';

export type ClientTransport = 'udp' | 'tcp' | 'tls';

export interface DirectionCounters {
  clientToPeerPackets: number;
  clientToPeerBytes: number;
  peerToClientPackets: number;
  peerToClientBytes: number;
}

/** Plain numbers, read by the metrics collector at scrape time. */
export interface DataPlaneCounters {
  byTransport: Record<ClientTransport, DirectionCounters>;
  droppedNoPermission: number;
  droppedNoChannel: number;
  droppedRateLimited: number;
  droppedBackpressure: number;
  /** Datagrams for an allocation of another thread that did not fit that thread's inbox (it was this far behind). */
  droppedHandover: number;
  sendErrors: number;
  /** Client → peer datagrams handed to another allocation of this relay in process (see RelayEndpointSpec). */
  deliveredInProcess: number;
  /** Coalescing pauses the native plane's threads took (relay.coalesceMicros each); 0 on the JavaScript plane. */
  coalescePauses: number;
}

/** Where peer traffic for one allocation goes: the client's 5-tuple. */
export interface ClientSink {
  readonly transport: ClientTransport;
  /** Whether ChannelData must be padded to 4 bytes (stream transports). */
  readonly padChannelData: boolean;
  /**
   * Sends header + payload (+ zero padding) as one message to the client.
   * Returns false when the message was dropped (e.g. stream backpressure).
   */
  send(header: Buffer, payload: Buffer, padding: number): boolean;
}

export interface RelayEndpointSpec {
  /** Bound relay socket; the data plane owns it from now on and closes it. */
  socket: UdpSocket;
  family: 4 | 6;
  sink: ClientSink;
  /** Per-allocation bitrate cap (both directions together), 0 = unlimited. */
  maxBitrateKbps: number;
  /**
   * The relayed address the client was told, given only when it is an address of this host
   * (no external address stands in for it): the kernel would deliver a datagram sent there
   * to this very socket, so an allocation of the same plane that sends to it may be handed
   * the datagram in process, with this address as its source, under the same checks.
   */
  ownRelayedAddress?: { address: string; port: number };
}

/** Forwarding state of one allocation. All addresses are canonical IP text. */
export interface RelayEndpoint {
  permit(peerIp: string, expiresAtMs: number): void;
  revoke(peerIp: string): void;
  bindChannel(channel: number, peerIp: string, peerPort: number, expiresAtMs: number): void;
  unbindChannel(channel: number): void;
  setMaxBitrate(kbps: number): void;
  /** Client → peer, ChannelData: `frame` starts with the 4-byte ChannelData header. */
  fromClientChannelData(frame: Buffer): void;
  /** Client → peer, Send indication (policy and permission already checked by the caller). */
  fromClientSend(peerIp: string, peerPort: number, payload: Buffer): void;
  hasPermission(peerIp: string, nowMs: number): boolean;
  /** What this allocation relayed so far (payload bytes, as in the plane's counters); final once closed. */
  usage(): DirectionCounters;
  close(): void;
}

/**
 * A client-facing UDP datagram that is not ChannelData for a routed client
 * (the plane forwards those itself): STUN, handed to the control plane.
 * `lane` names the plane socket (and thread) it arrived on; everything for
 * that client goes through the same lane.
 */
export type StunHandler = (datagram: Buffer, address: string, port: number, lane: number) => void;

/** One UDP client (address, port, lane) of a plane-owned listener. */
export interface UdpClientPort {
  /** Where peer traffic for this client's allocation goes. */
  readonly sink: ClientSink;
  /** STUN responses and other control messages to the client. */
  sendControl(message: Buffer): void;
  /** Routes this client's ChannelData to `endpoint` (null: drop it again). */
  route(endpoint: RelayEndpoint | null): void;
}

/** A client-facing UDP listener whose sockets the data plane owns and demultiplexes. */
export interface PlaneUdpListener {
  readonly host: string;
  readonly port: number;
  client(address: string, port: number, lane: number): UdpClientPort;
  close(): Promise<void>;
}

export interface UdpListenerEvents {
  stun: StunHandler;
  /** A socket error the listener survived (e.g. ICMP feedback on an unconnected socket). */
  error: () => void;
}

export interface DataPlane {
  /** Which implementation runs, and on how many threads (logged at startup). */
  readonly name: 'node' | 'native';
  readonly threads: number;
  /** The native plane's coalescing pause in µs (relay.coalesceMicros); the JavaScript plane has none. */
  readonly coalesceMicros?: number;
  readonly counters: DataPlaneCounters;
  /** Binds host:port (0: any free port); ChannelData of routed clients is forwarded, STUN goes to `events.stun`. */
  listenUdp(host: string, port: number, events: UdpListenerEvents): Promise<PlaneUdpListener>;
  openRelay(spec: RelayEndpointSpec): RelayEndpoint;
  /** Stops the plane and closes every socket it owns. */
  close(): void;
}
