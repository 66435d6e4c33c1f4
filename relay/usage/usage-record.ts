// The usage record: one structured log line per ended allocation, what
// billing, abuse handling and capacity planning read. Built from plain values
// so the shape is testable without a server; never carries credentials.
import type { ClientTransport, DirectionCounters } from '../dataplane/types.js';

export const END_REASONS = ['refresh_lifetime_zero', 'client_closed', 'lifetime_expired', 'server_closing'] as const;
export type EndReason = (typeof END_REASONS)[number];

export type AddressFamily = 'ipv4' | 'ipv6';

export interface UsageRecord {
  user: string;
  realm: string;
  transport: ClientTransport;
  clientFamily: AddressFamily;
  relayedFamily: AddressFamily;
  /** ISO 8601 start of the allocation. */
  start: string;
  durationSeconds: number;
  bytesToPeer: number;
  bytesToClient: number;
  packetsToPeer: number;
  packetsToClient: number;
  /** Distinct peer IP addresses the allocation was given permission to. */
  peers: number;
  endReason: EndReason;
}

export interface EndedAllocation {
  user: string;
  transport: ClientTransport;
  clientAddress: string;
  relayedFamily: 4 | 6;
  startedAtMs: number;
  peers: number;
  usage: DirectionCounters;
}

/** Canonical client addresses are IPv4 dotted quads or IPv6 text (IPv4-mapped clients count as IPv4). */
export function addressFamily(address: string): AddressFamily {
  return address.includes(':') && !/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? 'ipv6' : 'ipv4';
}

export function usageRecord(a: EndedAllocation, realm: string, endReason: EndReason, endedAtMs: number): UsageRecord {
  return {
    user: a.user,
    realm,
    transport: a.transport,
    clientFamily: addressFamily(a.clientAddress),
    relayedFamily: a.relayedFamily === 6 ? 'ipv6' : 'ipv4',
    start: new Date(a.startedAtMs).toISOString(),
    durationSeconds: Math.max(0, (endedAtMs - a.startedAtMs) / 1000),
    bytesToPeer: a.usage.clientToPeerBytes,
    bytesToClient: a.usage.peerToClientBytes,
    packetsToPeer: a.usage.clientToPeerPackets,
    packetsToClient: a.usage.peerToClientPackets,
    peers: a.peers,
    endReason,
  };
}
