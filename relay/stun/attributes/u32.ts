// Helpers for attributes whose value is a single 32-bit field.
import { StunDecodeError } from '../errors.js';

export function encodeU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

export function decodeU32(value: Buffer, name: string): number {
  if (value.length !== 4) throw new StunDecodeError(`${name} must be 4 bytes`);
  return value.readUInt32BE(0);
}
