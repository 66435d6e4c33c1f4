// Everything a request handler needs, passed explicitly (no globals).
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.js';
import type { CredentialStore } from '../auth/credential-store.js';
import type { NonceIssuer } from '../auth/nonce.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';
import type { PeerPolicy } from '../policy/peer-policy.js';
import type { DataPlane } from '../dataplane/types.js';
import type { StunMessage } from '../stun/message.js';
import type { AllocationTable } from './allocation-table.js';
import type { RelayPortAllocator } from './relay-ports.js';
import type { ServerStats } from './stats.js';
import type { ClientConnection } from './client-connection.js';
import type { Allocation } from './allocation.js';
import type { EndReason } from '../usage/usage-record.js';
import type { TopUsers } from '../usage/top-users.js';
import type { HandlerGuard } from '../handler-guard.js';
import type { UnauthenticatedResponseLimiter } from './unauthenticated-responses.js';

export interface ServerContext {
  config: RelayConfig;
  credentials: CredentialStore;
  nonces: NonceIssuer;
  limiter: AuthFailureLimiter;
  policy: PeerPolicy;
  dataPlane: DataPlane;
  allocations: AllocationTable;
  ports: RelayPortAllocator;
  stats: ServerStats;
  log: Logger;
  /** Per-user traffic for the bounded per-user metrics. */
  topUsers: TopUsers;
  /** Confines a throw in a socket event handler to the input that caused it. */
  guard: HandlerGuard;
  /** Per-source budget for answers to unauthenticated UDP requests (reflection). */
  reflection: UnauthenticatedResponseLimiter;
  draining: boolean;
  /** Deletes an allocation everywhere (table, data plane, port, client) and writes its usage record. */
  deleteAllocation(a: Allocation, why: EndReason): void;
}

/** The result of a successful long-term credential check. */
export interface AuthContext {
  username: string;
  user: string;
  /** The long-term key, for MESSAGE-INTEGRITY on the responses. */
  key: KeyObject;
  /** The password that key was made from (kept by a new allocation, see Allocation.longTermKey). */
  password: string;
  sha256: boolean;
}

export interface TurnRequest {
  msg: StunMessage;
  client: ClientConnection;
  now: number;
}
