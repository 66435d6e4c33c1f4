// The TURN control plane: decodes STUN requests from any client transport,
// authenticates, dispatches to the method handlers, caches responses for
// retransmissions, and expires allocations, permissions and channels.
import {
  AttributeType,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  MessageClass,
  Method,
  UNDERSTOOD_REQUIRED_ATTRIBUTES,
} from '../stun/constants.js';
import { ErrorCode } from '../stun/error-codes.js';
import { FingerprintMismatchError, StunDecodeError } from '../stun/errors.js';
import { decodeMessageType, decodeStunMessage, StunMessageBuilder, type StunMessage } from '../stun/message.js';
import { encodeErrorCode } from '../stun/attributes/error-code.js';
import { encodeUnknownAttributes } from '../stun/attributes/unknown-attributes.js';
import type { Allocation } from './allocation.js';
import type { ClientConnection } from './client-connection.js';
import type { AuthContext, ServerContext, TurnRequest } from './context.js';
import { authenticate } from './authenticate.js';
import { ResponseCache } from './response-cache.js';
import { UnauthenticatedResponseLimiter } from './unauthenticated-responses.js';
import { errorResponse } from './responses.js';
import { countError } from './stats.js';
import { usageRecord, type EndReason } from '../usage/usage-record.js';
import { TopUsers } from '../usage/top-users.js';
import { handleBinding } from './handlers/binding.js';
import { handleAllocate } from './handlers/allocate.js';
import { handleRefresh } from './handlers/refresh.js';
import { handleCreatePermission } from './handlers/create-permission.js';
import { handleChannelBind } from './handlers/channel-bind.js';
import { handleSend } from './handlers/send.js';

const SWEEP_INTERVAL_MS = 1000;

/** How a method is handled; a method with no route, or a message of the wrong class for its route, is refused. */
type MethodRoute =
  /** Indications get no response. */
  | { kind: 'indication'; handle: (ctx: ServerContext, req: TurnRequest) => void }
  /** Requests answered without credentials (not cached: they change nothing). */
  | { kind: 'unauthenticated'; handle: (ctx: ServerContext, req: TurnRequest) => Buffer }
  /** Authenticated requests; the response is cached for retransmissions. */
  | { kind: 'authenticated'; handle: (ctx: ServerContext, req: TurnRequest, auth: AuthContext) => Buffer }
  /** The same, answered later: retransmissions meanwhile are dropped. */
  | {
      kind: 'authenticated-async';
      handle: (ctx: ServerContext, req: TurnRequest, auth: AuthContext) => Promise<Buffer>;
    };

/** Every method the server handles. */
const METHODS: ReadonlyMap<number, MethodRoute> = new Map<number, MethodRoute>([
  [Method.Binding, { kind: 'unauthenticated', handle: handleBinding }],
  [Method.Allocate, { kind: 'authenticated-async', handle: handleAllocate }],
  [Method.Refresh, { kind: 'authenticated', handle: handleRefresh }],
  [Method.CreatePermission, { kind: 'authenticated', handle: handleCreatePermission }],
  [Method.ChannelBind, { kind: 'authenticated', handle: handleChannelBind }],
  [Method.Send, { kind: 'indication', handle: handleSend }],
]);

export type ServerDeps = Omit<ServerContext, 'deleteAllocation' | 'draining' | 'topUsers' | 'reflection'>;

/** 400 (bare: it goes to an unauthenticated sender) for a request whose header is readable but whose body is not. */
function badRequestFromHeader(buf: Buffer): Buffer | null {
  if (buf.length < HEADER_LENGTH || buf.readUInt32BE(4) !== MAGIC_COOKIE || (buf[0]! & 0xc0) !== 0) return null;
  const { method, cls } = decodeMessageType(buf.readUInt16BE(0));
  if (cls !== MessageClass.Request) return null;
  return new StunMessageBuilder(method, MessageClass.ErrorResponse, Buffer.from(buf.subarray(8, HEADER_LENGTH)))
    .add(AttributeType.ErrorCode, encodeErrorCode(ErrorCode.BadRequest, ''))
    .build();
}

function unknownRequiredAttributes(msg: StunMessage): number[] {
  const unknown: number[] = [];
  for (const a of msg.attributes) {
    if (a.type < 0x8000 && !UNDERSTOOD_REQUIRED_ATTRIBUTES.has(a.type) && !unknown.includes(a.type))
      unknown.push(a.type);
  }
  return unknown;
}

export class TurnServer {
  readonly ctx: ServerContext;
  private readonly cache: ResponseCache;
  /** Requests whose (asynchronous) handling is in progress; retransmissions meanwhile are dropped. */
  private readonly inFlight = new Set<string>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(deps: ServerDeps) {
    this.ctx = {
      ...deps,
      draining: false,
      topUsers: new TopUsers(deps.config.metrics.perUserTopK),
      reflection: new UnauthenticatedResponseLimiter({
        perSecond: deps.config.limits.unauthenticatedResponsesPerSecond,
      }),
      deleteAllocation: (a, why) => this.deleteAllocation(a, why),
    };
    this.cache = new ResponseCache(Math.max(1000, Math.min(100_000, deps.config.limits.maxAllocations * 4)));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  get cachedResponses(): number {
    return this.cache.size;
  }

  /** One STUN message from a client (a whole datagram, or one framed message on a stream). */
  handleStun(buf: Buffer, client: ClientConnection): void {
    this.ctx.guard.run(`${client.transport}_stun`, () => this.dispatchStun(buf, client));
  }

  private dispatchStun(buf: Buffer, client: ClientConnection): void {
    let msg: StunMessage;
    try {
      msg = decodeStunMessage(buf);
    } catch (err) {
      countError(this.ctx.stats, err instanceof FingerprintMismatchError ? 'bad_fingerprint' : 'malformed_message');
      if (!(err instanceof FingerprintMismatchError)) {
        const response = badRequestFromHeader(buf);
        if (response) this.sendUnauthenticated(client, response, Date.now());
      }
      return;
    }
    const route = METHODS.get(msg.method);
    if (msg.cls === MessageClass.Indication) {
      if (route?.kind === 'indication') this.guard(() => route.handle(this.ctx, { msg, client, now: Date.now() }));
      return;
    }
    if (msg.cls !== MessageClass.Request) return; // responses from clients are meaningless here
    this.handleRequest({ msg, client, now: Date.now() }, route);
  }

  /** ChannelData on a stream connection (UDP listeners route it themselves). */
  handleChannelData(frame: Buffer, client: ClientConnection): void {
    const endpoint = client.allocation?.endpoint;
    if (endpoint) this.ctx.guard.run(`${client.transport}_channel_data`, () => endpoint.fromClientChannelData(frame));
  }

  /** A stream connection went away: its allocation goes with it (RFC 8656 §3.1). */
  clientClosed(client: ClientConnection): void {
    const a = client.allocation ?? this.ctx.allocations.get(client.key);
    if (a) this.deleteAllocation(a, 'client_closed');
  }

  private handleRequest(req: TurnRequest, route: MethodRoute | undefined): void {
    const { msg, client } = req;
    const cacheKey = `${client.key}|${msg.transactionId.toString('hex')}`;
    const cached = this.cache.get(cacheKey, req.now);
    if (cached) {
      client.sendControl(cached);
      return;
    }
    if (this.inFlight.has(cacheKey)) return;

    const unknown = unknownRequiredAttributes(msg);
    if (unknown.length > 0) {
      this.sendUnauthenticated(
        client,
        errorResponse(this.ctx, req, ErrorCode.UnknownAttribute, [
          [AttributeType.UnknownAttributes, encodeUnknownAttributes(unknown)],
        ]),
        req.now,
      );
      return;
    }
    if (route?.kind === 'unauthenticated') {
      this.guard(() => this.sendUnauthenticated(client, route.handle(this.ctx, req), req.now));
      return;
    }
    if (route === undefined || route.kind === 'indication') {
      this.sendUnauthenticated(client, errorResponse(this.ctx, req, ErrorCode.BadRequest), req.now);
      return;
    }

    const outcome = authenticate(this.ctx, req);
    if (!outcome.ok) {
      if (outcome.response) this.sendUnauthenticated(client, outcome.response, req.now);
      return;
    }
    const auth = outcome.auth;
    client.onAuthenticated();
    const reply = (response: Buffer) => {
      this.cache.set(cacheKey, response, Date.now());
      client.sendControl(response);
    };
    if (route.kind === 'authenticated-async') {
      this.inFlight.add(cacheKey);
      route
        .handle(this.ctx, req, auth)
        .catch((err: unknown) => this.failure(err, req, auth))
        .then(reply, (err: unknown) => this.internalError(err))
        .finally(() => this.inFlight.delete(cacheKey));
      return;
    }
    let response: Buffer;
    try {
      response = route.handle(this.ctx, req, auth);
    } catch (err) {
      response = this.failure(err, req, auth);
    }
    reply(response);
  }

  /**
   * Answers to requests that did not authenticate. Over UDP the source may be
   * spoofed (reflection): a token bucket per source (/32, /64) bounds what
   * any one address can be sent.
   */
  private sendUnauthenticated(client: ClientConnection, response: Buffer, now: number): void {
    if (client.transport === 'udp' && !this.ctx.reflection.allow(client.remoteAddress, now)) {
      this.ctx.stats.unauthenticatedResponses.rate_limited++;
      return;
    }
    this.ctx.stats.unauthenticatedResponses.sent++;
    client.sendControl(response);
  }

  /** Malformed attribute values answer 400; anything else is our bug: 500, counted and logged without payload. */
  private failure(err: unknown, req: TurnRequest, auth: AuthContext): Buffer {
    if (err instanceof StunDecodeError) {
      countError(this.ctx.stats, 'malformed_attribute');
      return errorResponse(this.ctx, req, ErrorCode.BadRequest, [], auth);
    }
    this.internalError(err);
    return errorResponse(this.ctx, req, ErrorCode.ServerError, [], auth);
  }

  private internalError(err: unknown): void {
    countError(this.ctx.stats, 'internal');
    this.ctx.log.error(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) },
      'request handling failed',
    );
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof StunDecodeError) countError(this.ctx.stats, 'malformed_attribute');
      else this.internalError(err);
    }
  }

  deleteAllocation(a: Allocation, why: EndReason): void {
    if (!this.ctx.allocations.remove(a)) return;
    a.endpoint.close(); // after close, usage() is final
    const usage = a.endpoint.usage();
    this.ctx.topUsers.addSince(a.user, usage, a.accounted);
    this.ctx.ports.free(a.family, a.relayed.port);
    if (a.client.allocation === a) a.client.onAllocationChange(null);
    const record = usageRecord(
      {
        user: a.user,
        transport: a.client.transport,
        clientAddress: a.client.remoteAddress,
        relayedFamily: a.family,
        startedAtMs: a.startedAt,
        peers: a.peerCount,
        usage,
      },
      this.ctx.config.realm,
      why,
      Date.now(),
    );
    this.ctx.log.info({ allocation: a.id, usage: record }, 'allocation ended');
  }

  /** Brings the per-user metrics up to date with the live allocations (called at scrape time). */
  accountLiveUsage(): void {
    for (const a of this.ctx.allocations.values()) this.ctx.topUsers.addSince(a.user, a.endpoint.usage(), a.accounted);
  }

  /** Re-judges every installed permission against the current peer policy (after a live reload). */
  revalidatePeers(): void {
    for (const a of this.ctx.allocations.values()) {
      for (const ip of [...a.permissions.keys()]) {
        if (!this.ctx.policy.check(ip).allowed) a.removePermission(ip);
      }
      for (const [channel, b] of [...a.channels]) {
        if (!this.ctx.policy.check(b.peerIp, b.peerPort).allowed) a.removeChannel(channel);
      }
    }
  }

  setMaxBitrate(kbps: number): void {
    for (const a of this.ctx.allocations.values()) a.endpoint.setMaxBitrate(kbps);
  }

  sweep(nowMs: number): void {
    for (const a of [...this.ctx.allocations.values()]) {
      if (a.expiresAt < nowMs) this.deleteAllocation(a, 'lifetime_expired');
      else a.expire(nowMs);
    }
    this.cache.sweep(nowMs);
    this.ctx.ports.sweep(nowMs);
  }

  close(): void {
    clearInterval(this.sweepTimer);
    for (const a of [...this.ctx.allocations.values()]) this.deleteAllocation(a, 'server_closing');
    this.ctx.ports.close();
    this.cache.clear();
  }
}
