// ChannelData messages (RFC 8656 §12.4): 2-byte channel, 2-byte length, data,
// padded to 4 bytes over TCP/TLS (padding optional over UDP).
import { CHANNEL_MAX, CHANNEL_MIN } from './constants.js';

export const CHANNEL_DATA_HEADER = 4;

/** True when the first byte marks a ChannelData message (first two bits 01). */
export function isChannelDataByte(firstByte: number): boolean {
  return (firstByte & 0xc0) === 0x40;
}

export function isValidChannel(channel: number): boolean {
  return channel >= CHANNEL_MIN && channel <= CHANNEL_MAX;
}

export function writeChannelDataHeader(out: Buffer, offset: number, channel: number, length: number): void {
  out.writeUInt16BE(channel, offset);
  out.writeUInt16BE(length, offset + 2);
}

export function encodeChannelData(channel: number, data: Buffer, pad: boolean): Buffer {
  const padded = pad ? (data.length + 3) & ~3 : data.length;
  const out = Buffer.alloc(CHANNEL_DATA_HEADER + padded);
  writeChannelDataHeader(out, 0, channel, data.length);
  data.copy(out, CHANNEL_DATA_HEADER);
  return out;
}

/** Decodes for tests and tools; the data plane reads the header in place. */
export function decodeChannelData(buf: Buffer): { channel: number; data: Buffer } | null {
  if (buf.length < CHANNEL_DATA_HEADER || !isChannelDataByte(buf[0]!)) return null;
  const length = buf.readUInt16BE(2);
  if (CHANNEL_DATA_HEADER + length > buf.length) return null;
  return { channel: buf.readUInt16BE(0), data: buf.subarray(CHANNEL_DATA_HEADER, CHANNEL_DATA_HEADER + length) };
}
