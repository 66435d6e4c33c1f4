// XOR-PEER-ADDRESS checks shared by CreatePermission, ChannelBind and Send:
// port 0 is no transport address anyone can be reached on (400), the peer's
// family must match the relay's (443), and the peer policy must allow it
// (403, counted by reason and path).
import { canonicalIp } from '../../stun/ip.js';
import type { TransportAddress } from '../../stun/attributes/xor-address.js';
import type { Allocation } from '../allocation.js';
import type { ServerContext } from '../context.js';
import { countPeerRefusal, type PeerPath } from '../stats.js';

export type PeerCheck = { ok: true; ip: string } | { ok: false; code: 400 | 403 | 443 };

export function checkPeer(
  ctx: ServerContext,
  a: Allocation,
  peer: TransportAddress,
  path: PeerPath,
  withPort: boolean,
): PeerCheck {
  if (peer.port === 0) {
    countPeerRefusal(ctx.stats, 'port-zero', path);
    return { ok: false, code: 400 };
  }
  if (peer.family !== a.family) return { ok: false, code: 443 };
  const verdict = ctx.policy.check(peer.address, withPort ? peer.port : undefined);
  if (!verdict.allowed) {
    countPeerRefusal(ctx.stats, verdict.reason, path);
    return { ok: false, code: 403 };
  }
  return { ok: true, ip: canonicalIp(peer.address) };
}
