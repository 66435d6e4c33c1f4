// RFC 5769 test vectors: all four sample messages decode, their
// MESSAGE-INTEGRITY and FINGERPRINT verify, and our encoders reproduce the
// XOR-MAPPED-ADDRESS bytes exactly.
import { createHash } from 'node:crypto';
import { AttributeType, MessageClass, Method } from '../../../relay/stun/constants.js';
import { decodeStunMessage, StunMessageBuilder } from '../../../relay/stun/message.js';
import { verifyMessageIntegrity } from '../../../relay/stun/attributes/message-integrity.js';
import { decodeXorAddress, encodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { decodeSoftware } from '../../../relay/stun/attributes/software.js';
import { decodeUsername } from '../../../relay/stun/attributes/username.js';
import { decodeRealm } from '../../../relay/stun/attributes/realm.js';
import { decodeNonce } from '../../../relay/stun/attributes/nonce.js';
import { FingerprintMismatchError } from '../../../relay/stun/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const SHORT_TERM_PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');

const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);

const IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);

const IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

const LONG_TERM_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

function integrityOk(buf: Buffer, key: Buffer): boolean {
  const m = decodeStunMessage(buf);
  return verifyMessageIntegrity(
    m.raw,
    m.offsetOf(AttributeType.MessageIntegrity)!,
    m.get(AttributeType.MessageIntegrity)!,
    key,
  );
}

describe('RFC 5769 test vectors', () => {
  test('2.1 sample request: attributes, short-term integrity, fingerprint', () => {
    const m = decodeStunMessage(REQUEST);
    expect(m.method).toBe(Method.Binding);
    expect(m.cls).toBe(MessageClass.Request);
    expect(decodeSoftware(m.get(AttributeType.Software)!)).toBe('STUN test client');
    expect(decodeUsername(m.get(AttributeType.Username)!)).toBe('evtj:h6vY');
    expect(m.get(AttributeType.Priority)!.toString('hex')).toBe('6e0001ff');
    expect(integrityOk(REQUEST, SHORT_TERM_PASSWORD)).toBe(true);
    expect(integrityOk(REQUEST, Buffer.from('wrong'))).toBe(false);
  });

  test('2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853', () => {
    const m = decodeStunMessage(IPV4_RESPONSE);
    expect(m.cls).toBe(MessageClass.SuccessResponse);
    const value = m.get(AttributeType.XorMappedAddress)!;
    expect(decodeXorAddress(value, m.transactionId)).toEqual({ family: 4, address: '192.0.2.1', port: 32853 });
    expect(encodeXorAddress({ address: '192.0.2.1', port: 32853 }, m.transactionId)).toEqual(value);
    expect(integrityOk(IPV4_RESPONSE, SHORT_TERM_PASSWORD)).toBe(true);
  });

  test('2.3 IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
    const m = decodeStunMessage(IPV6_RESPONSE);
    const value = m.get(AttributeType.XorMappedAddress)!;
    expect(decodeXorAddress(value, m.transactionId)).toEqual({
      family: 6,
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    });
    expect(encodeXorAddress({ address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }, m.transactionId)).toEqual(
      value,
    );
    expect(integrityOk(IPV6_RESPONSE, SHORT_TERM_PASSWORD)).toBe(true);
  });

  test('2.4 request with long-term authentication', () => {
    const m = decodeStunMessage(LONG_TERM_REQUEST);
    const username = decodeUsername(m.get(AttributeType.Username)!);
    const realm = decodeRealm(m.get(AttributeType.Realm)!);
    expect(username).toBe('\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9');
    expect(realm).toBe('example.org');
    expect(decodeNonce(m.get(AttributeType.Nonce)!)).toBe('f//499k954d6OL34oL9FSTvy64sA');
    const key = createHash('md5').update(`${username}:${realm}:TheMatrIX`).digest();
    expect(integrityOk(LONG_TERM_REQUEST, key)).toBe(true);
  });

  test('a flipped bit anywhere before FINGERPRINT is detected', () => {
    const copy = Buffer.from(IPV4_RESPONSE);
    copy[30] = copy[30]! ^ 0x01;
    expect(() => decodeStunMessage(copy)).toThrow(FingerprintMismatchError);
  });

  test('our encoder round-trips a response with integrity and fingerprint', () => {
    const tid = IPV4_RESPONSE.subarray(8, 20);
    const built = new StunMessageBuilder(Method.Binding, MessageClass.SuccessResponse, Buffer.from(tid))
      .add(AttributeType.Software, Buffer.from('test vector '))
      .add(AttributeType.XorMappedAddress, encodeXorAddress({ address: '192.0.2.1', port: 32853 }, tid))
      .build({ integrityKey: SHORT_TERM_PASSWORD, fingerprint: true });
    // Same length and header; attribute bytes identical except the padding byte (RFC 5769 pads with spaces, we with zeros).
    expect(built.length).toBe(IPV4_RESPONSE.length);
    expect(built.subarray(0, 20)).toEqual(IPV4_RESPONSE.subarray(0, 20));
    expect(built.subarray(36, 48)).toEqual(IPV4_RESPONSE.subarray(36, 48));
    expect(integrityOk(built, SHORT_TERM_PASSWORD)).toBe(true);
  });
});
