// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): list of 16-bit attribute types.
import { StunDecodeError } from '../errors.js';

export function encodeUnknownAttributes(types: number[]): Buffer {
  const b = Buffer.alloc(types.length * 2);
  types.forEach((t, i) => b.writeUInt16BE(t, i * 2));
  return b;
}

export function decodeUnknownAttributes(value: Buffer): number[] {
  if (value.length % 2) throw new StunDecodeError('UNKNOWN-ATTRIBUTES has odd length');
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 2) out.push(value.readUInt16BE(i));
  return out;
}
