// Long-term credential check for TURN requests (RFC 8489 §9.2.4), with TURN
// REST ephemeral usernames handled by the credential store. Every failure is
// counted; failures from a source that presented a nonce issued to it are
// recorded in the per-IP failure limiter (a success clears it); a blocked IP gets no
// answer at all, so it learns nothing and costs us nothing.
import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { AttributeType, Method } from '../stun/constants.js';
import { ErrorCode } from '../stun/error-codes.js';
import { verifyMessageIntegrity } from '../stun/attributes/message-integrity.js';
import { verifyMessageIntegritySha256 } from '../stun/attributes/message-integrity-sha256.js';
import type { AuthContext, ServerContext, TurnRequest } from './context.js';
import { challengeResponse, errorResponse } from './responses.js';
import type { Allocation } from './allocation.js';
import type { AuthResult } from './stats.js';

export type AuthOutcome = { ok: true; auth: AuthContext } | { ok: false; response: Buffer | null };

/** RFC 8489 §9.2.2 long-term key with the default (MD5) password algorithm. */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

export function authenticate(ctx: ServerContext, req: TurnRequest): AuthOutcome {
  const { msg, client, now } = req;
  const ip = client.remoteAddress;
  const fail = (result: AuthResult, response: Buffer | null, recordFailure: boolean): AuthOutcome => {
    ctx.stats.auth[result]++;
    if (recordFailure) ctx.limiter.recordFailure(ip, now);
    return { ok: false, response };
  };
  if (ctx.limiter.isBlocked(ip, now)) return fail('rate_limited', null, false);

  const sha256Offset = msg.offsetOf(AttributeType.MessageIntegritySha256);
  const sha1Offset = msg.offsetOf(AttributeType.MessageIntegrity);
  if (sha256Offset === undefined && sha1Offset === undefined) return fail('missing', firstContact(ctx, req), false);

  const usernameBuf = msg.get(AttributeType.Username);
  const realmBuf = msg.get(AttributeType.Realm);
  const nonceBuf = msg.get(AttributeType.Nonce);
  // Failures count against the source only once it has shown a nonce we issued
  // to that address: it can receive there, so it is not someone spoofing a victim.
  if (!usernameBuf || !realmBuf || !nonceBuf) return fail('missing', errorResponse(ctx, req, 400), false);

  const nonceState = ctx.nonces.check(nonceBuf.toString('utf8'), ip, now);
  if (nonceState !== 'ok') return fail('stale_nonce', challengeResponse(ctx, req, 438), false);

  const username = usernameBuf.toString('utf8');
  const realm = realmBuf.toString('utf8');
  if (realm !== ctx.config.realm) return fail('bad_integrity', challengeResponse(ctx, req, 401), true);

  const live = liveAllocationOf(ctx, req, username);
  const found = ctx.credentials.lookup(username, now, {
    acceptExpired: live !== undefined,
    maxTtlSeconds: ctx.config.auth.maxCredentialTTLSeconds,
  });
  if (!found.ok)
    return fail(
      found.reason === 'expired' ? 'expired' : found.reason === 'ttl_too_long' ? 'ttl_too_long' : 'unknown_user',
      challengeResponse(ctx, req, 401),
      true,
    );

  const useSha256 = sha256Offset !== undefined;
  const offset = (useSha256 ? sha256Offset : sha1Offset)!;
  const value = msg.get(useSha256 ? AttributeType.MessageIntegritySha256 : AttributeType.MessageIntegrity)!;
  // Try every candidate (one per shared secret during rotation) without an early exit.
  let matched: { key: KeyObject; password: string } | null = null;
  for (const password of found.passwords) {
    // One KeyObject for the check and the response's MESSAGE-INTEGRITY (see IntegrityKey); the
    // allocation's own while the store still offers its password (a rotation may retire it).
    const key =
      live?.longTermKey?.password === password
        ? live.longTermKey.key
        : createSecretKey(longTermKey(username, realm, password));
    const ok = useSha256
      ? verifyMessageIntegritySha256(msg.raw, offset, value, key)
      : verifyMessageIntegrity(msg.raw, offset, value, key);
    if (ok && matched === null) matched = { key, password };
  }
  if (matched === null) return fail('bad_integrity', challengeResponse(ctx, req, 401), true);
  ctx.stats.auth.success++;
  ctx.limiter.reset(ip);
  return { ok: true, auth: { username, user: found.user, ...matched, sha256: useSha256 } };
}

/**
 * The answer to a request without MESSAGE-INTEGRITY. It may come from a
 * spoofed source, so it is the smallest one that serves a real client: the
 * 401 challenge (REALM, NONCE) only for an Allocate that could succeed; an
 * Allocate without REQUESTED-TRANSPORT gets a bare 400, and Refresh,
 * CreatePermission or ChannelBind from a 5-tuple without an allocation a bare
 * 437 (a real client sends those only after it has authenticated).
 */
function firstContact(ctx: ServerContext, req: TurnRequest): Buffer {
  if (req.msg.method === Method.Allocate) {
    if (!req.msg.has(AttributeType.RequestedTransport)) return errorResponse(ctx, req, ErrorCode.BadRequest);
    return challengeResponse(ctx, req, 401);
  }
  if (!ctx.allocations.get(req.client.key)) return errorResponse(ctx, req, ErrorCode.AllocationMismatch);
  return challengeResponse(ctx, req, 401);
}

/**
 * Credential expiry is judged when an allocation is created. Requests on a
 * live allocation made with the same USERNAME keep authenticating after the
 * username's expiry, until the allocation is limits.maxAllocationAgeSeconds
 * old, so calls longer than the credential TTL are not cut.
 */
function liveAllocationOf(ctx: ServerContext, req: TurnRequest, username: string): Allocation | undefined {
  if (req.msg.method === Method.Allocate) return undefined;
  const a = ctx.allocations.get(req.client.key);
  return a !== undefined &&
    a.username === username &&
    req.now - a.startedAt < ctx.config.limits.maxAllocationAgeSeconds * 1000
    ? a
    : undefined;
}
