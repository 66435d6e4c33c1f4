// Shared precondition of Refresh, CreatePermission and ChannelBind: the
// 5-tuple has an allocation (else 437) created with the same USERNAME (else 441).
import { ErrorCode } from '../../stun/error-codes.js';
import type { Allocation } from '../allocation.js';
import type { AuthContext, ServerContext, TurnRequest } from '../context.js';
import { errorResponse } from '../responses.js';

export function existingAllocation(ctx: ServerContext, req: TurnRequest, auth: AuthContext): Allocation | Buffer {
  const a = ctx.allocations.get(req.client.key);
  if (!a) return errorResponse(ctx, req, ErrorCode.AllocationMismatch, [], auth);
  if (a.username !== auth.username) return errorResponse(ctx, req, ErrorCode.WrongCredentials, [], auth);
  return a;
}
