// CreatePermission request (RFC 8656 §9): all peers are installed, or none.
import { AttributeType } from '../../stun/constants.js';
import { ErrorCode } from '../../stun/error-codes.js';
import { decodeXorAddress } from '../../stun/attributes/xor-address.js';
import type { AuthContext, ServerContext, TurnRequest } from '../context.js';
import { errorResponse, successResponse } from '../responses.js';
import { existingAllocation } from './existing-allocation.js';
import { checkPeer } from './peer-address.js';

export function handleCreatePermission(ctx: ServerContext, req: TurnRequest, auth: AuthContext): Buffer {
  const a = existingAllocation(ctx, req, auth);
  if (Buffer.isBuffer(a)) return a;
  const values = req.msg.getAll(AttributeType.XorPeerAddress);
  if (values.length === 0) return errorResponse(ctx, req, ErrorCode.BadRequest, [], auth);
  const ips = new Set<string>();
  for (const v of values) {
    const checked = checkPeer(ctx, a, decodeXorAddress(v, req.msg.transactionId), 'create_permission', false);
    if (!checked.ok) return errorResponse(ctx, req, checked.code, [], auth);
    ips.add(checked.ip);
  }
  let added = 0;
  for (const ip of ips) if (!a.permissions.has(ip)) added++;
  if (a.permissions.size + added > ctx.config.limits.maxPermissionsPerAllocation) {
    return errorResponse(ctx, req, ErrorCode.InsufficientCapacity, [], auth);
  }
  for (const ip of ips) a.addPermission(ip, req.now);
  return successResponse(ctx, req, [], auth);
}
