// ChannelBind request (RFC 8656 §11.2).
import { AttributeType } from '../../stun/constants.js';
import { ErrorCode } from '../../stun/error-codes.js';
import { decodeChannelNumber } from '../../stun/attributes/channel-number.js';
import { decodeXorAddress } from '../../stun/attributes/xor-address.js';
import { isValidChannel } from '../../stun/channel-data.js';
import type { AuthContext, ServerContext, TurnRequest } from '../context.js';
import { errorResponse, successResponse } from '../responses.js';
import { existingAllocation } from './existing-allocation.js';
import { checkPeer } from './peer-address.js';

export function handleChannelBind(ctx: ServerContext, req: TurnRequest, auth: AuthContext): Buffer {
  const a = existingAllocation(ctx, req, auth);
  if (Buffer.isBuffer(a)) return a;
  const bad = () => errorResponse(ctx, req, ErrorCode.BadRequest, [], auth);
  const channelAttr = req.msg.get(AttributeType.ChannelNumber);
  const peerAttr = req.msg.get(AttributeType.XorPeerAddress);
  if (!channelAttr || !peerAttr) return bad();
  const channel = decodeChannelNumber(channelAttr);
  if (!isValidChannel(channel)) return bad();
  const peer = decodeXorAddress(peerAttr, req.msg.transactionId);
  const checked = checkPeer(ctx, a, peer, 'channel_bind', true);
  if (!checked.ok) return errorResponse(ctx, req, checked.code, [], auth);

  const existing = a.channels.get(channel);
  if (existing && (existing.peerIp !== checked.ip || existing.peerPort !== peer.port)) return bad();
  const boundChannel = a.channelForPeer(checked.ip, peer.port);
  if (boundChannel !== undefined && boundChannel !== channel) return bad();
  if (!existing) {
    if (a.channels.size >= ctx.config.limits.maxChannelsPerAllocation)
      return errorResponse(ctx, req, ErrorCode.InsufficientCapacity, [], auth);
    if (!a.permissions.has(checked.ip) && a.permissions.size >= ctx.config.limits.maxPermissionsPerAllocation) {
      return errorResponse(ctx, req, ErrorCode.InsufficientCapacity, [], auth);
    }
  }
  a.bindChannel(channel, checked.ip, peer.port, req.now);
  return successResponse(ctx, req, [], auth);
}
