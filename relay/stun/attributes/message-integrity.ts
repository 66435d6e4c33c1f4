// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1, 20 bytes.
import { AttributeType } from '../constants.js';
import { integrityMatches, writeIntegrity, type IntegrityKey } from './integrity-common.js';

export function appendMessageIntegrity(buf: Buffer, pos: number, key: IntegrityKey): number {
  return writeIntegrity('sha1', AttributeType.MessageIntegrity, buf, pos, key);
}

export function verifyMessageIntegrity(buf: Buffer, attrOffset: number, value: Buffer, key: IntegrityKey): boolean {
  if (value.length !== 20) return false;
  return integrityMatches('sha1', key, buf, attrOffset, value);
}
