// Property tests for the codec: round trips, and random or mutated bytes
// never make the decoder do anything but return a message or throw
// StunDecodeError.
import fc from 'fast-check';
import { AttributeType, MessageClass, Method, type MessageClassValue } from '../../../relay/stun/constants.js';
import {
  decodeMessageType,
  decodeStunMessage,
  encodeMessageType,
  StunMessageBuilder,
} from '../../../relay/stun/message.js';
import { StunDecodeError } from '../../../relay/stun/errors.js';
import { verifyMessageIntegrity } from '../../../relay/stun/attributes/message-integrity.js';
import { verifyMessageIntegritySha256 } from '../../../relay/stun/attributes/message-integrity-sha256.js';
import { decodeXorAddress, encodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { decodeErrorCode, encodeErrorCode } from '../../../relay/stun/attributes/error-code.js';
import { decodeChannelData, encodeChannelData } from '../../../relay/stun/channel-data.js';
import { decodeEvenPort, encodeEvenPort } from '../../../relay/stun/attributes/even-port.js';
import { decodeUnknownAttributes, encodeUnknownAttributes } from '../../../relay/stun/attributes/unknown-attributes.js';
import { reasonPhrase } from '../../../relay/stun/error-codes.js';

const tid = fc.uint8Array({ minLength: 12, maxLength: 12 }).map((a) => Buffer.from(a));
const attr = fc
  .tuple(
    fc.integer({ min: 0x0020, max: 0x7fff }).filter((t) => t !== 0x0008 && t !== 0x001c),
    fc.uint8Array({ maxLength: 64 }),
  )
  .map(([t, v]) => [t, Buffer.from(v)] as [number, Buffer]);

function expectDecodeOrDecodeError(buf: Buffer): void {
  try {
    decodeStunMessage(buf);
  } catch (err) {
    expect(err).toBeInstanceOf(StunDecodeError);
  }
}

describe('STUN codec properties', () => {
  test('message type encoding round-trips every method and class', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 3 }), (method, cls) => {
        expect(decodeMessageType(encodeMessageType(method, cls as MessageClassValue))).toEqual({ method, cls });
      }),
    );
    expect(encodeMessageType(Method.Allocate, MessageClass.Request)).toBe(0x0003);
    expect(encodeMessageType(Method.Data, MessageClass.Indication)).toBe(0x0017);
    expect(encodeMessageType(Method.Binding, MessageClass.ErrorResponse)).toBe(0x0111);
  });

  test('built messages decode to the same attributes and verify with either integrity variant', () => {
    fc.assert(
      fc.property(
        tid,
        fc.array(attr, { maxLength: 8 }),
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.boolean(),
        (t, attrs, keyBytes, sha256) => {
          const key = Buffer.from(keyBytes);
          const b = new StunMessageBuilder(Method.Allocate, MessageClass.Request, t);
          for (const [type, v] of attrs) b.add(type, v);
          const m = decodeStunMessage(b.build({ integrityKey: key, sha256, fingerprint: true }));
          expect(m.transactionId).toEqual(t);
          const plain = m.attributes.filter(
            (a) =>
              a.type !== AttributeType.MessageIntegrity &&
              a.type !== AttributeType.MessageIntegritySha256 &&
              a.type !== AttributeType.Fingerprint,
          );
          expect(plain.map((a) => [a.type, Buffer.from(a.value)])).toEqual(attrs);
          const type = sha256 ? AttributeType.MessageIntegritySha256 : AttributeType.MessageIntegrity;
          const verify = sha256 ? verifyMessageIntegritySha256 : verifyMessageIntegrity;
          expect(verify(m.raw, m.offsetOf(type)!, m.get(type)!, key)).toBe(true);
          expect(verify(m.raw, m.offsetOf(type)!, m.get(type)!, Buffer.concat([key, Buffer.from([1])]))).toBe(false);
        },
      ),
    );
  });

  test('XOR addresses round-trip for IPv4 and IPv6', () => {
    fc.assert(
      fc.property(tid, fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), (t, address, port) => {
        const d = decodeXorAddress(encodeXorAddress({ address, port }, t), t);
        expect(d.port).toBe(port);
        expect(encodeXorAddress(d, t)).toEqual(encodeXorAddress({ address, port }, t));
      }),
      { numRuns: 3000 },
    );
  });

  test('error codes, EVEN-PORT, UNKNOWN-ATTRIBUTES and ChannelData round-trip', () => {
    for (const code of [300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 486, 500, 508]) {
      expect(decodeErrorCode(encodeErrorCode(code))).toEqual({ code, reason: reasonPhrase(code) });
      expect(reasonPhrase(code)).not.toBe('Error');
    }
    expect(decodeEvenPort(encodeEvenPort(true))).toEqual({ reserveNext: true });
    expect(decodeUnknownAttributes(encodeUnknownAttributes([0x1234, 0x0002]))).toEqual([0x1234, 0x0002]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0x4000, max: 0x7fff }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        (ch, data, pad) => {
          const enc = encodeChannelData(ch, Buffer.from(data), pad);
          if (pad) expect(enc.length % 4).toBe(0);
          expect(decodeChannelData(enc)).toEqual({ channel: ch, data: Buffer.from(data) });
        },
      ),
    );
  });

  test('random bytes never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectDecodeOrDecodeError(Buffer.from(bytes))),
      { numRuns: 2000 },
    );
  });

  test('random bytes behind a valid header never crash the decoder', () => {
    fc.assert(
      fc.property(
        tid,
        fc.uint8Array({ maxLength: 200 }).map((a) => a.slice(0, a.length & ~3)),
        (t, body) => {
          const h = Buffer.alloc(20);
          h.writeUInt16BE(0x0003, 0);
          h.writeUInt16BE(body.length, 2);
          h.writeUInt32BE(0x2112a442, 4);
          t.copy(h, 8);
          expectDecodeOrDecodeError(Buffer.concat([h, Buffer.from(body)]));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('mutated valid messages (bit flips, truncation, length edits) never crash the decoder', () => {
    const base = new StunMessageBuilder(Method.Allocate, MessageClass.Request, Buffer.alloc(12, 7))
      .add(AttributeType.RequestedTransport, Buffer.from([17, 0, 0, 0]))
      .add(AttributeType.Username, Buffer.from('user'))
      .add(AttributeType.XorPeerAddress, encodeXorAddress({ address: '192.0.2.1', port: 5 }, Buffer.alloc(12, 7)))
      .build({ integrityKey: Buffer.from('k'), fingerprint: true });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(base.length),
        (edits, cut) => {
          const m = Buffer.from(base);
          for (const [i, v] of edits) m[i] = v;
          expectDecodeOrDecodeError(m.subarray(0, cut));
          expectDecodeOrDecodeError(m);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('IPv6 text form', () => {
  test('decoded and canonical IPv6 text matches what Node reports for peers', async () => {
    const { canonicalIp, bytesToIp, ipToBytes } = await import('../../../relay/stun/ip.js');
    expect(canonicalIp('2001:0db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('::ffff:102:304')).toBe('::ffff:1.2.3.4');
    expect(bytesToIp(ipToBytes('::ffff:1.2.3.4'))).toBe('::ffff:1.2.3.4');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
  });
});
