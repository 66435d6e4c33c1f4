// REQUESTED-TRANSPORT (RFC 8656 §18.7): IANA protocol number in the first byte.
import { StunDecodeError } from '../errors.js';

export function encodeRequestedTransport(protocol: number): Buffer {
  return Buffer.from([protocol, 0, 0, 0]);
}

export function decodeRequestedTransport(value: Buffer): number {
  if (value.length !== 4) throw new StunDecodeError('REQUESTED-TRANSPORT must be 4 bytes');
  return value[0]!;
}
