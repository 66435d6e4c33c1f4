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

/**
 * The one ChannelData reader: the payload length of the ChannelData message
 * at the start of `buf`, or -1 when `buf` is not one (too short for the
 * header, not a ChannelData first byte, a channel number outside
 * 0x4000-0x7FFF, or a length field that runs past the end of `buf`).
 * Trailing bytes (UDP padding) are allowed. The data plane calls this on
 * every client datagram and frame before touching the payload.
 */
export function channelDataLength(buf: Buffer): number {
  if (buf.length < CHANNEL_DATA_HEADER) return -1;
  const channel = buf.readUInt16BE(0);
  if (!isValidChannel(channel)) return -1;
  const length = buf.readUInt16BE(2);
  return CHANNEL_DATA_HEADER + length > buf.length ? -1 : length;
}

/** Channel number of a message channelDataLength() accepted. */
export function channelDataChannel(buf: Buffer): number {
  return buf.readUInt16BE(0);
}

export function decodeChannelData(buf: Buffer): { channel: number; data: Buffer } | null {
  const length = channelDataLength(buf);
  if (length < 0) return null;
  return { channel: channelDataChannel(buf), data: buf.subarray(CHANNEL_DATA_HEADER, CHANNEL_DATA_HEADER + length) };
}
