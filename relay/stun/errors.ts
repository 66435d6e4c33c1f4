/** Thrown by the codec for malformed wire data; the server drops the packet or answers 400. */
export class StunDecodeError extends Error {
  override name = 'StunDecodeError';
}

/** A FINGERPRINT that does not match: per RFC 8489 §7.3 the packet is not STUN and is dropped silently. */
export class FingerprintMismatchError extends StunDecodeError {
  override name = 'FingerprintMismatchError';
}
