// Long-term credential check for TURN requests (RFC 8489 §9.2.4), with TURN
// REST ephemeral usernames handled by the credential store. Every failure is
// counted and recorded in the per-IP failure limiter; a blocked IP gets no
// answer at all, so it learns nothing and costs us nothing.
import { createHash } from 'node:crypto';
import { AttributeType } from '../stun/constants.js';
import { verifyMessageIntegrity } from '../stun/attributes/message-integrity.js';
import { verifyMessageIntegritySha256 } from '../stun/attributes/message-integrity-sha256.js';
import type { AuthContext, ServerContext, TurnRequest } from './context.js';
import { challengeResponse, errorResponse } from './responses.js';
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
  if (sha256Offset === undefined && sha1Offset === undefined) return fail('missing', challengeResponse(ctx, req, 401), false);

  const usernameBuf = msg.get(AttributeType.Username);
  const realmBuf = msg.get(AttributeType.Realm);
  const nonceBuf = msg.get(AttributeType.Nonce);
  if (!usernameBuf || !realmBuf || !nonceBuf) return fail('missing', errorResponse(ctx, req, 400), true);

  const nonceState = ctx.nonces.check(nonceBuf.toString('utf8'), ip, now);
  if (nonceState !== 'ok') return fail('stale_nonce', challengeResponse(ctx, req, 438), nonceState === 'invalid');

  const username = usernameBuf.toString('utf8');
  const realm = realmBuf.toString('utf8');
  if (realm !== ctx.config.realm) return fail('bad_integrity', challengeResponse(ctx, req, 401), true);

  const found = ctx.credentials.lookup(username, now);
  if (!found.ok) return fail(found.reason === 'expired' ? 'expired' : 'unknown_user', challengeResponse(ctx, req, 401), true);

  const useSha256 = sha256Offset !== undefined;
  const offset = (useSha256 ? sha256Offset : sha1Offset)!;
  const value = msg.get(useSha256 ? AttributeType.MessageIntegritySha256 : AttributeType.MessageIntegrity)!;
  // Try every candidate (one per shared secret during rotation) without an early exit.
  let matched: Buffer | null = null;
  for (const password of found.passwords) {
    const key = longTermKey(username, realm, password);
    const ok = useSha256 ? verifyMessageIntegritySha256(msg.raw, offset, value, key) : verifyMessageIntegrity(msg.raw, offset, value, key);
    if (ok && matched === null) matched = key;
  }
  if (matched === null) return fail('bad_integrity', challengeResponse(ctx, req, 401), true);
  ctx.stats.auth.success++;
  return { ok: true, auth: { username, user: found.user, key: matched, sha256: useSha256 } };
}
