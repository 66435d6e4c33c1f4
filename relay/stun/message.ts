// STUN message header and attribute list (RFC 8489 §5, §14). Decoding keeps
// attribute values as zero-copy views into the received buffer; encoding goes
// through StunMessageBuilder so integrity and fingerprint are always appended
// last and in the right order.
import { AttributeType, HEADER_LENGTH, MAGIC_COOKIE, type MessageClassValue } from './constants.js';
import { FingerprintMismatchError, StunDecodeError } from './errors.js';
import { appendMessageIntegrity } from './attributes/message-integrity.js';
import { appendMessageIntegritySha256 } from './attributes/message-integrity-sha256.js';
import { appendFingerprint, verifyFingerprint } from './attributes/fingerprint.js';
import type { IntegrityKey } from './attributes/integrity-common.js';

export interface StunAttribute {
  type: number;
  /** View into the message buffer (unpadded value). */
  value: Buffer;
  /** Offset of the attribute header inside the message. */
  offset: number;
}

export function encodeMessageType(method: number, cls: MessageClassValue): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}

export function decodeMessageType(type: number): { method: number; cls: MessageClassValue } {
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  const cls = (((type >> 4) & 1) | ((type >> 7) & 2)) as MessageClassValue;
  return { method, cls };
}

export class StunMessage {
  constructor(
    readonly method: number,
    readonly cls: MessageClassValue,
    readonly transactionId: Buffer,
    readonly attributes: StunAttribute[],
    readonly raw: Buffer,
  ) {}

  /** First occurrence wins (RFC 8489 §14: later duplicates are ignored). */
  get(type: number): Buffer | undefined {
    for (const a of this.attributes) if (a.type === type) return a.value;
    return undefined;
  }

  getAll(type: number): Buffer[] {
    return this.attributes.filter((a) => a.type === type).map((a) => a.value);
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  offsetOf(type: number): number | undefined {
    for (const a of this.attributes) if (a.type === type) return a.offset;
    return undefined;
  }
}

/**
 * Decodes one complete STUN message occupying all of `buf`. Throws
 * StunDecodeError on anything malformed, including a wrong FINGERPRINT.
 * Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT are ignored, as RFC 8489 §14.5 requires.
 */
export function decodeStunMessage(buf: Buffer): StunMessage {
  if (buf.length < HEADER_LENGTH) throw new StunDecodeError('message shorter than the 20-byte header');
  const type = buf.readUInt16BE(0);
  if (type & 0xc000) throw new StunDecodeError('first two bits must be zero');
  const length = buf.readUInt16BE(2);
  if (length & 3) throw new StunDecodeError('message length not a multiple of 4');
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunDecodeError('bad magic cookie');
  if (HEADER_LENGTH + length !== buf.length) throw new StunDecodeError('message length does not match datagram size');
  const { method, cls } = decodeMessageType(type);
  const attributes: StunAttribute[] = [];
  let pos = HEADER_LENGTH;
  let afterIntegrity = false;
  let sawFingerprint = false;
  while (pos < buf.length) {
    if (sawFingerprint) throw new StunDecodeError('attribute after FINGERPRINT');
    if (pos + 4 > buf.length) throw new StunDecodeError('truncated attribute header');
    const atype = buf.readUInt16BE(pos);
    const alen = buf.readUInt16BE(pos + 2);
    const end = pos + 4 + alen;
    if (end > buf.length) throw new StunDecodeError('attribute value runs past the end of the message');
    const padded = pos + 4 + ((alen + 3) & ~3);
    if (padded > buf.length) throw new StunDecodeError('attribute padding runs past the end of the message');
    if (atype === AttributeType.Fingerprint) {
      if (alen !== 4) throw new StunDecodeError('FINGERPRINT must be 4 bytes');
      if (!verifyFingerprint(buf, pos)) throw new FingerprintMismatchError('FINGERPRINT mismatch');
      sawFingerprint = true;
      attributes.push({ type: atype, value: buf.subarray(pos + 4, end), offset: pos });
    } else if (!afterIntegrity || atype === AttributeType.MessageIntegritySha256) {
      attributes.push({ type: atype, value: buf.subarray(pos + 4, end), offset: pos });
    }
    if (atype === AttributeType.MessageIntegrity || atype === AttributeType.MessageIntegritySha256)
      afterIntegrity = true;
    pos = padded;
  }
  return new StunMessage(method, cls, buf.subarray(8, 20), attributes, buf);
}

export interface BuildOptions {
  /** Long-term or short-term key; appends MESSAGE-INTEGRITY (HMAC-SHA1). */
  integrityKey?: IntegrityKey;
  /** Append MESSAGE-INTEGRITY-SHA256 instead of the SHA-1 variant. */
  sha256?: boolean;
  fingerprint?: boolean;
}

export class StunMessageBuilder {
  private readonly parts: Array<{ type: number; value: Buffer }> = [];

  constructor(
    readonly method: number,
    readonly cls: MessageClassValue,
    readonly transactionId: Buffer,
  ) {
    if (transactionId.length !== 12) throw new RangeError('transaction id must be 12 bytes');
  }

  add(type: number, value: Buffer): this {
    if (value.length > 0xffff) throw new RangeError('attribute value longer than 65535 bytes');
    this.parts.push({ type, value });
    return this;
  }

  build(opts: BuildOptions = {}): Buffer {
    let size = HEADER_LENGTH;
    for (const p of this.parts) size += 4 + ((p.value.length + 3) & ~3);
    const extra = (opts.integrityKey ? (opts.sha256 ? 36 : 24) : 0) + (opts.fingerprint ? 8 : 0);
    if (size + extra - HEADER_LENGTH > 0xffff) throw new RangeError('message too large');
    const buf = Buffer.alloc(size + extra);
    buf.writeUInt16BE(encodeMessageType(this.method, this.cls), 0);
    buf.writeUInt16BE(size - HEADER_LENGTH, 2);
    buf.writeUInt32BE(MAGIC_COOKIE, 4);
    this.transactionId.copy(buf, 8);
    let pos = HEADER_LENGTH;
    for (const p of this.parts) {
      buf.writeUInt16BE(p.type, pos);
      buf.writeUInt16BE(p.value.length, pos + 2);
      p.value.copy(buf, pos + 4);
      pos += 4 + ((p.value.length + 3) & ~3);
    }
    if (opts.integrityKey) {
      pos = opts.sha256
        ? appendMessageIntegritySha256(buf, pos, opts.integrityKey)
        : appendMessageIntegrity(buf, pos, opts.integrityKey);
    }
    if (opts.fingerprint) appendFingerprint(buf, pos);
    return buf;
  }
}
