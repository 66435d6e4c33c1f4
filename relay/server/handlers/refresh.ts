// Refresh request (RFC 8656 §7.3): extend, or delete with LIFETIME 0.
import { AttributeType, FAMILY_IPV4, FAMILY_IPV6 } from '../../stun/constants.js';
import { ErrorCode } from '../../stun/error-codes.js';
import { decodeLifetime, encodeLifetime } from '../../stun/attributes/lifetime.js';
import { decodeRequestedAddressFamily } from '../../stun/attributes/requested-address-family.js';
import type { AuthContext, ServerContext, TurnRequest } from '../context.js';
import { grantedLifetimeSeconds } from '../lifetime.js';
import { errorResponse, successResponse } from '../responses.js';
import { existingAllocation } from './existing-allocation.js';

export function handleRefresh(ctx: ServerContext, req: TurnRequest, auth: AuthContext): Buffer {
  const a = existingAllocation(ctx, req, auth);
  if (Buffer.isBuffer(a)) return a;
  const familyAttr = req.msg.get(AttributeType.RequestedAddressFamily);
  if (familyAttr) {
    const f = decodeRequestedAddressFamily(familyAttr);
    if ((f === FAMILY_IPV4 ? 4 : f === FAMILY_IPV6 ? 6 : 0) !== a.family) {
      return errorResponse(ctx, req, ErrorCode.PeerAddressFamilyMismatch, [], auth);
    }
  }
  const lifetimeAttr = req.msg.get(AttributeType.Lifetime);
  const requested = lifetimeAttr ? decodeLifetime(lifetimeAttr) : undefined;
  if (requested === 0) {
    ctx.deleteAllocation(a, 'refresh_lifetime_zero');
    return successResponse(ctx, req, [[AttributeType.Lifetime, encodeLifetime(0)]], auth);
  }
  const lifetime = grantedLifetimeSeconds(requested, ctx.config.limits);
  a.expiresAt = req.now + lifetime * 1000;
  return successResponse(ctx, req, [[AttributeType.Lifetime, encodeLifetime(lifetime)]], auth);
}
