// ClientSink implementations: how relayed data reaches the client over the
// transport it used for its allocation.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket as NetSocket } from 'node:net';
import type { ClientSink, ClientTransport } from './types.js';

const ZEROS = Buffer.alloc(4);
/** Preallocated padding views, indexed by length, so padding costs no allocation per packet. */
const PADDING = [ZEROS.subarray(0, 0), ZEROS.subarray(0, 1), ZEROS.subarray(0, 2), ZEROS.subarray(0, 3)];

export class UdpClientSink implements ClientSink {
  readonly transport = 'udp';
  readonly padChannelData = false;

  constructor(
    private readonly socket: UdpSocket,
    private readonly address: string,
    private readonly port: number,
  ) {}

  send(header: Buffer, payload: Buffer, padding: number): boolean {
    this.socket.send(padding ? [header, payload, PADDING[padding & 3]!] : [header, payload], this.port, this.address);
    return true;
  }
}

export class StreamClientSink implements ClientSink {
  readonly padChannelData = true;

  constructor(
    readonly transport: Extract<ClientTransport, 'tcp' | 'tls'>,
    private readonly socket: NetSocket,
    private readonly maxBufferedBytes: () => number,
  ) {}

  send(header: Buffer, payload: Buffer, padding: number): boolean {
    const s = this.socket;
    // Backpressure: a slow client loses relayed packets instead of growing our memory.
    if (s.destroyed || s.writableLength + header.length + payload.length > this.maxBufferedBytes()) return false;
    s.cork();
    s.write(header);
    s.write(payload);
    if (padding) s.write(PADDING[padding & 3]!);
    s.uncork();
    return true;
  }
}
