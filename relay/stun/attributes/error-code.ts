// ERROR-CODE (RFC 8489 §14.8): class (hundreds) and number, then a UTF-8 reason.
import { StunDecodeError } from '../errors.js';
import { reasonPhrase } from '../error-codes.js';

export function encodeErrorCode(code: number, reason = reasonPhrase(code)): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const b = Buffer.alloc(4 + text.length);
  b[2] = Math.floor(code / 100);
  b[3] = code % 100;
  text.copy(b, 4);
  return b;
}

export function decodeErrorCode(value: Buffer): { code: number; reason: string } {
  if (value.length < 4) throw new StunDecodeError('ERROR-CODE too short');
  const cls = value[2]! & 0x07;
  const num = value[3]!;
  if (cls < 3 || cls > 6 || num > 99) throw new StunDecodeError('ERROR-CODE out of range');
  return { code: cls * 100 + num, reason: value.subarray(4).toString('utf8') };
}
