// REALM (RFC 8489 §14): UTF-8 text, at most 763 bytes.
import { decodeText, encodeText } from './text.js';

export const encodeRealm = (text: string): Buffer => encodeText(text, 763, 'REALM');
export const decodeRealm = (value: Buffer): string => decodeText(value, 763, 'REALM');
