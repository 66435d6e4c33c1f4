// Building responses. Authenticated requests get SOFTWARE, MESSAGE-INTEGRITY
// (-SHA256) and FINGERPRINT. Anything sent to an unauthenticated request can
// be aimed at a spoofed victim, so it is as small as the protocol allows (the
// bandwidth amplification factor stays <= 3): no SOFTWARE, no reason phrase,
// FINGERPRINT only when the request carried one.
import { AttributeType, MessageClass } from '../stun/constants.js';
import { StunMessageBuilder } from '../stun/message.js';
import { encodeErrorCode } from '../stun/attributes/error-code.js';
import { encodeSoftware } from '../stun/attributes/software.js';
import { encodeRealm } from '../stun/attributes/realm.js';
import { encodeNonce } from '../stun/attributes/nonce.js';
import type { AuthContext, ServerContext, TurnRequest } from './context.js';

export type Attr = [type: number, value: Buffer];

function finish(ctx: ServerContext, req: TurnRequest, b: StunMessageBuilder, auth: AuthContext | undefined): Buffer {
  if (!auth) return b.build({ fingerprint: req.msg.has(AttributeType.Fingerprint) });
  b.add(AttributeType.Software, encodeSoftware(ctx.config.software));
  return b.build({ integrityKey: auth.key, sha256: auth.sha256, fingerprint: true });
}

export function successResponse(ctx: ServerContext, req: TurnRequest, attrs: Attr[], auth?: AuthContext): Buffer {
  const b = new StunMessageBuilder(req.msg.method, MessageClass.SuccessResponse, req.msg.transactionId);
  for (const [t, v] of attrs) b.add(t, v);
  return finish(ctx, req, b, auth);
}

export function errorResponse(
  ctx: ServerContext,
  req: TurnRequest,
  code: number,
  attrs: Attr[] = [],
  auth?: AuthContext,
): Buffer {
  const b = new StunMessageBuilder(req.msg.method, MessageClass.ErrorResponse, req.msg.transactionId);
  b.add(AttributeType.ErrorCode, auth ? encodeErrorCode(code) : encodeErrorCode(code, ''));
  for (const [t, v] of attrs) b.add(t, v);
  return finish(ctx, req, b, auth);
}

/** 401/438: carry a fresh NONCE and the REALM so the client can (re)authenticate. */
export function challengeResponse(ctx: ServerContext, req: TurnRequest, code: 401 | 438): Buffer {
  const nonce = ctx.nonces.issue(req.client.remoteAddress, req.now);
  return errorResponse(ctx, req, code, [
    [AttributeType.Realm, encodeRealm(ctx.config.realm)],
    [AttributeType.Nonce, encodeNonce(nonce)],
  ]);
}
