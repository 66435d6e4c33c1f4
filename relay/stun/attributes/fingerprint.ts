// FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message up to this attribute, XOR 0x5354554e.
import { crc32 } from 'node:zlib';
import { AttributeType } from '../constants.js';

const XOR = 0x5354554e;

function fingerprintOf(buf: Buffer, attrOffset: number): number {
  // The header length must already cover the FINGERPRINT attribute itself.
  const header = Buffer.from(buf.subarray(0, 20));
  header.writeUInt16BE(attrOffset + 8 - 20, 2);
  const crc = crc32(buf.subarray(20, attrOffset), crc32(header));
  return (crc ^ XOR) >>> 0;
}

/** Writes FINGERPRINT at `pos` (space must exist) and returns the new end. */
export function appendFingerprint(buf: Buffer, pos: number): number {
  buf.writeUInt16BE(pos + 8 - 20, 2);
  buf.writeUInt16BE(AttributeType.Fingerprint, pos);
  buf.writeUInt16BE(4, pos + 2);
  buf.writeUInt32BE(fingerprintOf(buf, pos), pos + 4);
  return pos + 8;
}

export function verifyFingerprint(buf: Buffer, attrOffset: number): boolean {
  return buf.readUInt32BE(attrOffset + 4) === fingerprintOf(buf, attrOffset);
}
