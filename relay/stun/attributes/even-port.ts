// EVEN-PORT (RFC 8656 §18.4): the R bit asks the server to also reserve port+1.
import { StunDecodeError } from '../errors.js';

export function encodeEvenPort(reserveNext: boolean): Buffer {
  return Buffer.from([reserveNext ? 0x80 : 0]);
}

export function decodeEvenPort(value: Buffer): { reserveNext: boolean } {
  if (value.length !== 1) throw new StunDecodeError('EVEN-PORT must be 1 byte');
  return { reserveNext: (value[0]! & 0x80) !== 0 };
}
