// Send indication (RFC 8656 §10.2): no response ever; anything wrong is dropped.
import { AttributeType } from '../../stun/constants.js';
import { decodeXorAddress } from '../../stun/attributes/xor-address.js';
import type { ServerContext, TurnRequest } from '../context.js';
import { checkPeer } from './peer-address.js';

export function handleSend(ctx: ServerContext, req: TurnRequest): void {
  const a = ctx.allocations.get(req.client.key);
  if (!a) return;
  const peerAttr = req.msg.get(AttributeType.XorPeerAddress);
  const data = req.msg.get(AttributeType.Data);
  if (!peerAttr || !data) return;
  const peer = decodeXorAddress(peerAttr, req.msg.transactionId);
  const checked = checkPeer(ctx, a, peer, 'send', true);
  if (!checked.ok) return;
  if (!a.endpoint.hasPermission(checked.ip, req.now)) return;
  a.endpoint.fromClientSend(checked.ip, peer.port, data);
}
