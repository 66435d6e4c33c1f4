// Allocate request (RFC 8656 §7.2).
import { AttributeType, FAMILY_IPV4, FAMILY_IPV6, TRANSPORT_UDP } from '../../stun/constants.js';
import { ErrorCode } from '../../stun/error-codes.js';
import { decodeRequestedTransport } from '../../stun/attributes/requested-transport.js';
import { decodeRequestedAddressFamily } from '../../stun/attributes/requested-address-family.js';
import { decodeEvenPort } from '../../stun/attributes/even-port.js';
import { decodeReservationToken, encodeReservationToken } from '../../stun/attributes/reservation-token.js';
import { decodeDontFragment } from '../../stun/attributes/dont-fragment.js';
import { decodeLifetime, encodeLifetime } from '../../stun/attributes/lifetime.js';
import { encodeXorAddress } from '../../stun/attributes/xor-address.js';
import { Allocation } from '../allocation.js';
import type { AuthContext, ServerContext, TurnRequest } from '../context.js';
import { grantedLifetimeSeconds } from '../lifetime.js';
import { errorResponse, successResponse } from '../responses.js';
import { advertisedAddress, isOwnRelayedAddress } from '../advertised-address.js';
import type { BoundRelay } from '../relay-ports.js';

export async function handleAllocate(ctx: ServerContext, req: TurnRequest, auth: AuthContext): Promise<Buffer> {
  const { msg, client } = req;
  const limits = ctx.config.limits;
  const reject = (code: number) => {
    ctx.stats.allocations.rejected++;
    return errorResponse(ctx, req, code, [], auth);
  };
  if (ctx.allocations.get(client.key)) return reject(ErrorCode.AllocationMismatch);

  const transport = msg.get(AttributeType.RequestedTransport);
  if (!transport) return reject(ErrorCode.BadRequest);
  if (decodeRequestedTransport(transport) !== TRANSPORT_UDP) return reject(ErrorCode.UnsupportedTransportProtocol);

  const df = msg.get(AttributeType.DontFragment);
  if (df) decodeDontFragment(df); // accepted: Linux UDP sockets already set DF via path-MTU discovery
  const evenPortAttr = msg.get(AttributeType.EvenPort);
  const evenPort = evenPortAttr ? decodeEvenPort(evenPortAttr) : undefined;
  const tokenAttr = msg.get(AttributeType.ReservationToken);
  const token = tokenAttr ? decodeReservationToken(tokenAttr) : undefined;
  const familyAttr = msg.get(AttributeType.RequestedAddressFamily);
  if (token !== undefined && (evenPort || familyAttr)) return reject(ErrorCode.BadRequest);

  let family: 4 | 6 = 4;
  if (familyAttr) {
    const f = decodeRequestedAddressFamily(familyAttr);
    if (f === FAMILY_IPV6 && ctx.config.relay.host6) family = 6;
    else if (f !== FAMILY_IPV4) return reject(ErrorCode.AddressFamilyNotSupported);
  }

  if (ctx.draining) {
    ctx.stats.allocations.draining++;
    return errorResponse(ctx, req, ErrorCode.InsufficientCapacity, [], auth);
  }
  if (limits.maxAllocationsPerUser > 0 && ctx.allocations.countForUser(auth.user) >= limits.maxAllocationsPerUser) {
    ctx.stats.allocations.quota_reached++;
    return errorResponse(ctx, req, ErrorCode.AllocationQuotaReached, [], auth);
  }
  const capacityFull = () => limits.maxAllocations > 0 && ctx.allocations.size >= limits.maxAllocations;
  const noCapacity = () => {
    ctx.stats.allocations.insufficient_capacity++;
    return errorResponse(ctx, req, ErrorCode.InsufficientCapacity, [], auth);
  };
  if (capacityFull()) return noCapacity();

  let relay: BoundRelay | null;
  let reservation: Buffer | undefined;
  if (token !== undefined) {
    relay = ctx.ports.claim(token);
  } else {
    const host = family === 4 ? ctx.config.relay.host : ctx.config.relay.host6!;
    const bound = await ctx.ports.bind(family, host, {
      even: evenPort !== undefined,
      reserveNext: evenPort?.reserveNext,
    });
    relay = bound?.relay ?? null;
    reservation = bound?.token;
  }
  if (!relay) return noCapacity();
  // The bind was asynchronous: re-check what may have changed meanwhile.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- draining may have started during the await
  if (ctx.allocations.get(client.key) || capacityFull() || ctx.draining || client.isClosed()) {
    ctx.ports.release(relay);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above
    return capacityFull() || ctx.draining ? noCapacity() : reject(ErrorCode.AllocationMismatch);
  }

  const lifetimeAttr = msg.get(AttributeType.Lifetime);
  const lifetime = grantedLifetimeSeconds(lifetimeAttr ? decodeLifetime(lifetimeAttr) : undefined, limits);
  const relayed = { address: advertisedAddress(ctx.config.relay, relay.family, client.localAddress), port: relay.port };
  const endpoint = ctx.dataPlane.openRelay({
    socket: relay.socket,
    family: relay.family,
    sink: client.sink,
    maxBitrateKbps: limits.maxBitrateKbps,
    ...(isOwnRelayedAddress(ctx.config.relay, relay.family, relayed.address) ? { ownRelayedAddress: relayed } : {}),
  });
  const allocation = new Allocation(
    client,
    auth.user,
    auth.username,
    relay.family,
    relayed,
    endpoint,
    req.now + lifetime * 1000,
    { password: auth.password, key: auth.key },
  );
  ctx.allocations.add(allocation);
  client.onAllocationChange(allocation);
  ctx.stats.allocations.success++;
  ctx.log.info(
    {
      allocation: allocation.id,
      user: auth.user,
      transport: client.transport,
      family: relay.family,
      relayPort: relay.port,
      lifetime,
    },
    'allocation created',
  );

  const tid = msg.transactionId;
  const attrs: Array<[number, Buffer]> = [
    [AttributeType.XorRelayedAddress, encodeXorAddress(relayed, tid)],
    [AttributeType.Lifetime, encodeLifetime(lifetime)],
    [AttributeType.XorMappedAddress, encodeXorAddress({ address: client.remoteAddress, port: client.remotePort }, tid)],
  ];
  if (reservation) attrs.push([AttributeType.ReservationToken, encodeReservationToken(reservation)]);
  return successResponse(ctx, req, attrs, auth);
}
