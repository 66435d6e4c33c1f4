// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.8): 0x01 IPv4, 0x02 IPv6.
import { StunDecodeError } from '../errors.js';

export function encodeRequestedAddressFamily(family: number): Buffer {
  return Buffer.from([family, 0, 0, 0]);
}

/** Returns the raw family byte; the server answers 440 for values it does not support. */
export function decodeRequestedAddressFamily(value: Buffer): number {
  if (value.length !== 4) throw new StunDecodeError('REQUESTED-ADDRESS-FAMILY must be 4 bytes');
  return value[0]!;
}
