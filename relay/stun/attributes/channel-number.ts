// CHANNEL-NUMBER (RFC 8656 §18.1): 16-bit channel, then 16 bits RFFU.
import { StunDecodeError } from '../errors.js';

export function encodeChannelNumber(channel: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(channel, 0);
  return b;
}

export function decodeChannelNumber(value: Buffer): number {
  if (value.length !== 4) throw new StunDecodeError('CHANNEL-NUMBER must be 4 bytes');
  return value.readUInt16BE(0);
}
