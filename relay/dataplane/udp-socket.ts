// UDP sockets for the data path. Every address we send to is already an IP
// literal, so the DNS lookup dgram performs per send (which defers each
// packet by a tick and allocates a callback) is replaced by an immediate
// pass-through.
import { createSocket, type Socket } from 'node:dgram';

export function createUdpSocket(family: 4 | 6): Socket {
  return createSocket({
    type: family === 4 ? 'udp4' : 'udp6',
    ipv6Only: family === 6,
    lookup: (address, _options, callback) => callback(null, address, family),
  });
}
