// Shared UTF-8 codec for the text attributes, with each one's RFC byte limit.
import { StunDecodeError } from '../errors.js';

export function encodeText(text: string, maxBytes: number, name: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  if (b.length > maxBytes) throw new RangeError(`${name} longer than ${maxBytes} bytes`);
  return b;
}

export function decodeText(value: Buffer, maxBytes: number, name: string): string {
  if (value.length > maxBytes) throw new StunDecodeError(`${name} longer than ${maxBytes} bytes`);
  return value.toString('utf8');
}
