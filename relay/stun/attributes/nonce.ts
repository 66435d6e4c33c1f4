// NONCE (RFC 8489 §14): UTF-8 text, at most 763 bytes.
import { decodeText, encodeText } from './text.js';

export const encodeNonce = (text: string): Buffer => encodeText(text, 763, 'NONCE');
export const decodeNonce = (value: Buffer): string => decodeText(value, 763, 'NONCE');
