// One client 5-tuple as the TURN server sees it, whatever the transport.
import type { ClientSink, ClientTransport } from '../dataplane/types.js';
import type { Allocation } from './allocation.js';

export interface ClientConnection {
  readonly transport: ClientTransport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Stable 5-tuple key for the allocation table and the response cache. */
  readonly key: string;
  readonly sink: ClientSink;
  allocation: Allocation | null;
  /** True once a stream connection has gone away (always false for UDP). */
  isClosed(): boolean;
  /** Sends a STUN message (response) to this client. */
  sendControl(message: Buffer): void;
  /** Called by the server each time a request from this client passes authentication. */
  onAuthenticated(): void;
  /** Called by the server when an allocation is created on / removed from this 5-tuple. */
  onAllocationChange(allocation: Allocation | null): void;
}

export function fiveTupleKey(
  transport: ClientTransport,
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
): string {
  return `${transport}|${localAddress}|${localPort}|${remoteAddress}|${remotePort}`;
}
