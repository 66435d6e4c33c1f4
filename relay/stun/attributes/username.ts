// USERNAME (RFC 8489 §14): UTF-8 text, at most 513 bytes.
import { decodeText, encodeText } from './text.js';

export const encodeUsername = (text: string): Buffer => encodeText(text, 513, 'USERNAME');
export const decodeUsername = (value: Buffer): string => decodeText(value, 513, 'USERNAME');
