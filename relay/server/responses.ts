// Building responses: SOFTWARE on every response, MESSAGE-INTEGRITY(-SHA256)
// when the request was authenticated, FINGERPRINT always.
import { AttributeType, MessageClass } from '../stun/constants.js';
import { StunMessageBuilder } from '../stun/message.js';
import { encodeErrorCode } from '../stun/attributes/error-code.js';
import { encodeSoftware } from '../stun/attributes/software.js';
import { encodeRealm } from '../stun/attributes/realm.js';
import { encodeNonce } from '../stun/attributes/nonce.js';
import type { AuthContext, ServerContext, TurnRequest } from './context.js';

export type Attr = [type: number, value: Buffer];

export function successResponse(ctx: ServerContext, req: TurnRequest, attrs: Attr[], auth?: AuthContext): Buffer {
  const b = new StunMessageBuilder(req.msg.method, MessageClass.SuccessResponse, req.msg.transactionId);
  for (const [t, v] of attrs) b.add(t, v);
  b.add(AttributeType.Software, encodeSoftware(ctx.config.software));
  return b.build({ integrityKey: auth?.key, sha256: auth?.sha256, fingerprint: true });
}

export function errorResponse(ctx: ServerContext, req: TurnRequest, code: number, attrs: Attr[] = [], auth?: AuthContext): Buffer {
  const b = new StunMessageBuilder(req.msg.method, MessageClass.ErrorResponse, req.msg.transactionId);
  b.add(AttributeType.ErrorCode, encodeErrorCode(code));
  for (const [t, v] of attrs) b.add(t, v);
  b.add(AttributeType.Software, encodeSoftware(ctx.config.software));
  return b.build({ integrityKey: auth?.key, sha256: auth?.sha256, fingerprint: true });
}

/** 401/438: carry a fresh NONCE and the REALM so the client can (re)authenticate. */
export function challengeResponse(ctx: ServerContext, req: TurnRequest, code: 401 | 438): Buffer {
  const nonce = ctx.nonces.issue(req.client.remoteAddress, req.now);
  return errorResponse(ctx, req, code, [
    [AttributeType.Realm, encodeRealm(ctx.config.realm)],
    [AttributeType.Nonce, encodeNonce(nonce)],
  ]);
}
