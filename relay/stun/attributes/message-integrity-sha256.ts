// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): HMAC-SHA256, possibly truncated
// to 16..32 bytes in steps of 4.
import { AttributeType } from '../constants.js';
import { integrityMatches, writeIntegrity, type IntegrityKey } from './integrity-common.js';

export function appendMessageIntegritySha256(buf: Buffer, pos: number, key: IntegrityKey): number {
  return writeIntegrity('sha256', AttributeType.MessageIntegritySha256, buf, pos, key);
}

export function verifyMessageIntegritySha256(
  buf: Buffer,
  attrOffset: number,
  value: Buffer,
  key: IntegrityKey,
): boolean {
  if (value.length < 16 || value.length > 32 || value.length % 4 !== 0) return false;
  return integrityMatches('sha256', key, buf, attrOffset, value);
}
