// The JavaScript data plane: one UDP relay socket per allocation, forwarding
// tables keyed by numbers for IPv4 peers, counters as plain numbers.
// Per packet it allocates only what Node itself requires (the received
// buffer, and a small header for the client-bound direction taken from
// Node's buffer pool).
import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { AttributeType, MAGIC_COOKIE, Method, MessageClass } from '../stun/constants.js';
import { encodeMessageType } from '../stun/message.js';
import { ipv4ToInt } from '../stun/ip.js';
import { writeXorAddress } from '../stun/attributes/xor-address.js';
import { CHANNEL_DATA_HEADER, channelDataChannel, channelDataLength } from '../stun/channel-data.js';
import { HandlerGuard } from '../handler-guard.js';
import { createCounters, direction } from './counters.js';
import { ipKey, transportAddressKey, transportAddressKeyOf, type IpKey } from './address-keys.js';
import { TokenBucket } from './token-bucket.js';
import { JsUdpListener } from './js-udp-listener.js';
import type {
  ClientSink,
  DataPlane,
  DataPlaneCounters,
  DirectionCounters,
  PlaneUdpListener,
  RelayEndpoint,
  RelayEndpointSpec,
  UdpListenerEvents,
} from './types.js';

const DATA_INDICATION_TYPE = encodeMessageType(Method.Data, MessageClass.Indication);

interface ChannelEntry {
  channel: number;
  ip: string;
  port: number;
  permissionKey: IpKey;
  peerKey: IpKey;
  expiresAt: number;
}

/** Indication transaction ids: random per process prefix + counter (unique, no per-packet RNG call). */
const tidPrefix = randomBytes(8);
let tidCounter = 0;

/** Own relayed address+port -> the endpoint there, for in-process delivery (RelayEndpointSpec.ownRelayedAddress). */
type OwnRelayed = Map<IpKey, JsRelayEndpoint>;

class JsRelayEndpoint implements RelayEndpoint {
  private readonly permissions = new Map<IpKey, number>();
  private readonly channels = new Map<number, ChannelEntry>();
  private readonly channelByPeer = new Map<IpKey, ChannelEntry>();
  private bucket: TokenBucket | null;
  private readonly stats: DirectionCounters;
  /** This allocation's share of `stats`, for its usage record. */
  private readonly own = direction();
  private closed = false;

  /** Where this endpoint sits in `ownRelayed`, and the source its in-process deliveries carry (both unset without an own relayed address). */
  private readonly ownKey: IpKey | undefined;
  private readonly source: RemoteInfo | undefined;

  constructor(
    private readonly spec: RelayEndpointSpec,
    private readonly counters: DataPlaneCounters,
    guard: HandlerGuard,
    private readonly ownRelayed: OwnRelayed,
  ) {
    this.stats = counters.byTransport[spec.sink.transport];
    const own = spec.ownRelayedAddress;
    if (own) {
      this.source = { address: own.address, port: own.port, family: spec.family === 4 ? 'IPv4' : 'IPv6', size: 0 };
      this.ownKey = transportAddressKey(own.address, own.port);
      ownRelayed.set(this.ownKey, this);
    }
    this.bucket = spec.maxBitrateKbps > 0 ? new TokenBucket(spec.maxBitrateKbps) : null;
    spec.socket.on(
      'message',
      guard.wrap('relay_socket_message', (msg: Buffer, rinfo: RemoteInfo) => this.fromPeer(msg, rinfo)),
    );
    // Send failures (ICMP unreachable, EPERM...) surface here; count, never crash.
    spec.socket.on('error', () => {
      this.counters.sendErrors++;
    });
  }

  permit(peerIp: string, expiresAtMs: number): void {
    this.permissions.set(ipKey(peerIp), expiresAtMs);
  }

  revoke(peerIp: string): void {
    const key = ipKey(peerIp);
    this.permissions.delete(key);
    for (const entry of this.channels.values()) if (entry.permissionKey === key) this.unbindChannel(entry.channel);
  }

  hasPermission(peerIp: string, nowMs: number): boolean {
    const exp = this.permissions.get(ipKey(peerIp));
    return exp !== undefined && exp >= nowMs;
  }

  bindChannel(channel: number, peerIp: string, peerPort: number, expiresAtMs: number): void {
    const entry: ChannelEntry = {
      channel,
      ip: peerIp,
      port: peerPort,
      permissionKey: ipKey(peerIp),
      peerKey: transportAddressKey(peerIp, peerPort),
      expiresAt: expiresAtMs,
    };
    this.channels.set(channel, entry);
    this.channelByPeer.set(entry.peerKey, entry);
  }

  unbindChannel(channel: number): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    this.channels.delete(channel);
    if (this.channelByPeer.get(entry.peerKey) === entry) this.channelByPeer.delete(entry.peerKey);
  }

  setMaxBitrate(kbps: number): void {
    if (kbps <= 0) this.bucket = null;
    else if (this.bucket) this.bucket.setRate(kbps);
    else this.bucket = new TokenBucket(kbps);
  }

  fromClientChannelData(frame: Buffer): void {
    const length = channelDataLength(frame);
    if (length < 0) {
      this.counters.droppedNoChannel++;
      return;
    } // truncated or no channel at all
    const entry = this.channels.get(channelDataChannel(frame));
    const now = Date.now();
    if (entry === undefined || entry.expiresAt < now) {
      this.counters.droppedNoChannel++;
      return;
    }
    const perm = this.permissions.get(entry.permissionKey);
    if (perm === undefined || perm < now) {
      this.counters.droppedNoPermission++;
      return;
    }
    if (this.bucket !== null && !this.bucket.take(length, now)) {
      this.counters.droppedRateLimited++;
      return;
    }
    this.countToPeer(length);
    const local = this.localPeer(entry.peerKey);
    if (local) local.fromPeer(frame.subarray(CHANNEL_DATA_HEADER, CHANNEL_DATA_HEADER + length), this.source!);
    else this.spec.socket.send(frame, CHANNEL_DATA_HEADER, length, entry.port, entry.ip);
  }

  fromClientSend(peerIp: string, peerPort: number, payload: Buffer): void {
    const now = Date.now();
    if (this.bucket !== null && !this.bucket.take(payload.length, now)) {
      this.counters.droppedRateLimited++;
      return;
    }
    this.countToPeer(payload.length);
    const local = this.localPeer(transportAddressKey(peerIp, peerPort));
    if (local) local.fromPeer(payload, this.source!);
    else this.spec.socket.send(payload, peerPort, peerIp);
  }

  /** The endpoint of this plane at a peer address, when both relayed addresses are this host's. */
  private localPeer(peerKey: IpKey): JsRelayEndpoint | undefined {
    if (this.source === undefined || this.ownRelayed.size === 0) return undefined;
    const local = this.ownRelayed.get(peerKey);
    if (local) this.counters.deliveredInProcess++;
    return local;
  }

  private countToPeer(bytes: number): void {
    this.stats.clientToPeerPackets++;
    this.stats.clientToPeerBytes += bytes;
    this.own.clientToPeerPackets++;
    this.own.clientToPeerBytes += bytes;
  }

  private fromPeer(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const v4 = ipv4ToInt(rinfo.address);
    const permissionKey: IpKey = v4 >= 0 ? v4 : rinfo.address;
    const now = Date.now();
    const perm = this.permissions.get(permissionKey);
    if (perm === undefined || perm < now) {
      this.counters.droppedNoPermission++;
      return;
    }
    if (this.bucket !== null && !this.bucket.take(msg.length, now)) {
      this.counters.droppedRateLimited++;
      return;
    }
    const sink = this.spec.sink;
    const channel = this.channelByPeer.get(transportAddressKeyOf(v4, rinfo.address, rinfo.port));
    let sent: boolean;
    if (channel !== undefined && channel.expiresAt >= now) {
      const header = Buffer.allocUnsafe(CHANNEL_DATA_HEADER);
      header.writeUInt16BE(channel.channel, 0);
      header.writeUInt16BE(msg.length, 2);
      sent = sink.send(header, msg, sink.padChannelData ? (4 - (msg.length & 3)) & 3 : 0);
    } else {
      sent = sink.send(
        dataIndicationHeader(v4, rinfo.address, rinfo.port, msg.length),
        msg,
        (4 - (msg.length & 3)) & 3,
      );
    }
    if (!sent) {
      this.counters.droppedBackpressure++;
      return;
    }
    this.stats.peerToClientPackets++;
    this.stats.peerToClientBytes += msg.length;
    this.own.peerToClientPackets++;
    this.own.peerToClientBytes += msg.length;
  }

  usage(): DirectionCounters {
    return { ...this.own };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownKey !== undefined && this.ownRelayed.get(this.ownKey) === this) this.ownRelayed.delete(this.ownKey);
    this.permissions.clear();
    this.channels.clear();
    this.channelByPeer.clear();
    try {
      this.spec.socket.close();
    } catch {
      /* already closed */
    }
  }
}

/** STUN header + XOR-PEER-ADDRESS + DATA attribute header for a Data indication carrying `length` bytes. */
function dataIndicationHeader(v4: number, address: string, port: number, length: number): Buffer {
  const addrLen = v4 >= 0 ? 8 : 20;
  const size = 20 + 4 + addrLen + 4;
  const h = Buffer.allocUnsafe(size);
  h.writeUInt16BE(DATA_INDICATION_TYPE, 0);
  h.writeUInt16BE(size - 20 + ((length + 3) & ~3), 2);
  h.writeUInt32BE(MAGIC_COOKIE, 4);
  tidPrefix.copy(h, 8);
  h.writeUInt32BE((tidCounter = (tidCounter + 1) >>> 0), 16);
  h.writeUInt16BE(AttributeType.XorPeerAddress, 20);
  h.writeUInt16BE(addrLen, 22);
  // The transaction id only matters (and is only sliced) for IPv6 peers.
  writeXorAddress(h, 24, address, port, v4 >= 0 ? h : h.subarray(8, 20));
  h.writeUInt16BE(AttributeType.Data, 20 + 4 + addrLen);
  h.writeUInt16BE(length, 20 + 4 + addrLen + 2);
  return h;
}

export class JsDataPlane implements DataPlane {
  readonly name = 'node';
  readonly threads = 1;
  readonly counters = createCounters();
  private readonly listeners = new Set<JsUdpListener>();
  private readonly ownRelayed: OwnRelayed = new Map();

  constructor(private readonly guard = new HandlerGuard()) {}

  async listenUdp(host: string, port: number, events: UdpListenerEvents): Promise<PlaneUdpListener> {
    const listener = await JsUdpListener.start(host, port, events, this.guard);
    this.listeners.add(listener);
    return listener;
  }

  openRelay(spec: RelayEndpointSpec): RelayEndpoint {
    return new JsRelayEndpoint(spec, this.counters, this.guard, this.ownRelayed);
  }

  /** Listener and relay sockets are closed by their owners (listeners, allocations); nothing runs besides them. */
  close(): void {
    for (const l of this.listeners) void l.close();
    this.listeners.clear();
  }
}

export type { ClientSink };
