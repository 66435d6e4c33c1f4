// Classifies the UDP payloads a TURN relay forwards for WebRTC. RFC 7983
// multiplexes STUN, DTLS and SRTP on one 5-tuple; for a data-channel-only
// session everything is either STUN (ICE connectivity checks) or DTLS:
//  - DTLS 1.2-style records (RFC 6347 §4.1): content type 20-23, version
//    0xfefd (or 0xfeff, which BoringSSL puts on the first ClientHello), and a
//    13-byte header. DTLS 1.3 uses these for its plaintext handshake start.
//  - DTLS 1.3 ciphertext records (RFC 9147 §4): unified header 0b001CSLEE,
//    everything after it encrypted.
// A datagram counts only when its records exactly fill it.

export type DtlsRecord =
  | { format: 'dtls-plaintext'; contentType: 20 | 21 | 22 | 23; version: number; length: number }
  | { format: 'dtls13-ciphertext'; epochBits: number; length: number };

export function dtlsRecords(datagram: Buffer): DtlsRecord[] | undefined {
  const records: DtlsRecord[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    const first = datagram[offset]!;
    let record: DtlsRecord | undefined;
    let end: number;
    if (first >= 20 && first <= 23) {
      if (offset + 13 > datagram.length) return undefined;
      const version = datagram.readUInt16BE(offset + 1);
      if (version !== 0xfefd && version !== 0xfeff) return undefined;
      const length = datagram.readUInt16BE(offset + 11);
      record = { format: 'dtls-plaintext', contentType: first as 20 | 21 | 22 | 23, version, length };
      end = offset + 13 + length;
    } else if ((first & 0xe0) === 0x20) {
      const hasConnectionId = (first & 0x10) !== 0;
      if (hasConnectionId) return undefined; // WebRTC negotiates no connection IDs
      const sequenceBytes = first & 0x08 ? 2 : 1;
      const hasLength = (first & 0x04) !== 0;
      const headerLength = 1 + sequenceBytes + (hasLength ? 2 : 0);
      if (offset + headerLength > datagram.length) return undefined;
      const length = hasLength
        ? datagram.readUInt16BE(offset + 1 + sequenceBytes)
        : datagram.length - offset - headerLength;
      record = { format: 'dtls13-ciphertext', epochBits: first & 0x03, length };
      end = offset + headerLength + length;
    } else {
      return undefined;
    }
    if (end > datagram.length || record.length === 0) return undefined;
    records.push(record);
    offset = end;
  }
  return records.length > 0 ? records : undefined;
}

/** STUN messages start with two zero bits and carry the magic cookie (RFC 8489 §5). */
export function isStunMessage(datagram: Buffer): boolean {
  return datagram.length >= 20 && (datagram[0]! & 0xc0) === 0 && datagram.readUInt32BE(4) === 0x2112a442;
}
