// Binding request (RFC 8489): tells the client its server-reflexive address. No auth needed.
import { AttributeType } from '../../stun/constants.js';
import { encodeXorAddress } from '../../stun/attributes/xor-address.js';
import type { ServerContext, TurnRequest } from '../context.js';
import { successResponse } from '../responses.js';

export function handleBinding(ctx: ServerContext, req: TurnRequest): Buffer {
  const mapped = encodeXorAddress(
    { address: req.client.remoteAddress, port: req.client.remotePort },
    req.msg.transactionId,
  );
  return successResponse(ctx, req, [[AttributeType.XorMappedAddress, mapped]]);
}
