// One TURN allocation: its 5-tuple, relayed transport address, lifetime,
// permissions and channel bindings (RFC 8656 §2.2). Forwarding state is
// mirrored into the data plane's RelayEndpoint; this object keeps what the
// control plane needs to answer requests and to expire things.
import type { KeyObject } from 'node:crypto';
import type { DirectionCounters, RelayEndpoint } from '../dataplane/types.js';
import { direction } from '../dataplane/counters.js';
import type { ClientConnection } from './client-connection.js';

export const PERMISSION_LIFETIME_MS = 300_000;
export const CHANNEL_LIFETIME_MS = 600_000;
/** Distinct peers remembered for the usage record; the count saturates here (memory stays bounded). */
export const MAX_PEERS_COUNTED = 4096;

export interface ChannelBinding {
  peerIp: string;
  peerPort: number;
  expiresAt: number;
}

let nextId = 1;

/** The key of a peer in channelByPeer. */
const channelByPeerKey = (ip: string, port: number) => `${ip}|${port}`;

export class Allocation {
  readonly id = nextId++;
  readonly permissions = new Map<string, number>();
  readonly channels = new Map<number, ChannelBinding>();
  /** Peer -> channel, to refuse binding one peer to two channels. */
  private readonly channelByPeer = new Map<string, number>();
  readonly startedAt = Date.now();
  /** Every peer IP ever permitted (for the usage record's peer count). */
  private readonly peersSeen = new Set<string>();
  /** What the per-user metrics have already counted of endpoint.usage(). */
  readonly accounted: DirectionCounters = direction();

  constructor(
    readonly client: ClientConnection,
    /** Quota key from the credential store. */
    readonly user: string,
    /** USERNAME used to create it; later requests must use the same one (441). */
    readonly username: string,
    readonly family: 4 | 6,
    /** Address advertised in XOR-RELAYED-ADDRESS. */
    readonly relayed: { address: string; port: number },
    readonly endpoint: RelayEndpoint,
    public expiresAt: number,
    /**
     * The long-term key its Allocate authenticated with and the password it came from: later
     * requests on this 5-tuple reuse it while the credential store still offers that password,
     * instead of an MD5 and a KeyObject per request.
     */
    readonly longTermKey?: { password: string; key: KeyObject },
  ) {}

  addPermission(peerIp: string, nowMs: number): void {
    const expiresAt = nowMs + PERMISSION_LIFETIME_MS;
    this.permissions.set(peerIp, expiresAt);
    this.endpoint.permit(peerIp, expiresAt);
    if (this.peersSeen.size < MAX_PEERS_COUNTED) this.peersSeen.add(peerIp);
  }

  get peerCount(): number {
    return this.peersSeen.size;
  }

  removePermission(peerIp: string): void {
    this.permissions.delete(peerIp);
    this.endpoint.revoke(peerIp);
    for (const [channel, b] of this.channels) if (b.peerIp === peerIp) this.removeChannel(channel);
  }

  channelForPeer(peerIp: string, peerPort: number): number | undefined {
    return this.channelByPeer.get(channelByPeerKey(peerIp, peerPort));
  }

  bindChannel(channel: number, peerIp: string, peerPort: number, nowMs: number): void {
    const expiresAt = nowMs + CHANNEL_LIFETIME_MS;
    this.channels.set(channel, { peerIp, peerPort, expiresAt });
    this.channelByPeer.set(channelByPeerKey(peerIp, peerPort), channel);
    this.endpoint.bindChannel(channel, peerIp, peerPort, expiresAt);
    this.addPermission(peerIp, nowMs); // ChannelBind installs/refreshes the permission too (RFC 8656 §11.2)
  }

  removeChannel(channel: number): void {
    const b = this.channels.get(channel);
    if (!b) return;
    this.channels.delete(channel);
    this.channelByPeer.delete(channelByPeerKey(b.peerIp, b.peerPort));
    this.endpoint.unbindChannel(channel);
  }

  /** Removes expired permissions and channels. */
  expire(nowMs: number): void {
    for (const [channel, b] of this.channels) if (b.expiresAt < nowMs) this.removeChannel(channel);
    for (const [ip, exp] of this.permissions) {
      if (exp < nowMs) {
        this.permissions.delete(ip);
        this.endpoint.revoke(ip);
      }
    }
  }
}
