// RESERVATION-TOKEN (RFC 8656 §18.9): 8 opaque bytes naming a reserved relay port.
import { StunDecodeError } from '../errors.js';

export function encodeReservationToken(token: Buffer): Buffer {
  if (token.length !== 8) throw new RangeError('reservation token must be 8 bytes');
  return token;
}

export function decodeReservationToken(value: Buffer): string {
  if (value.length !== 8) throw new StunDecodeError('RESERVATION-TOKEN must be 8 bytes');
  return value.toString('hex');
}
