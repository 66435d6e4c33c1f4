// USERNAME (RFC 8489 §14): UTF-8 text, at most 513 bytes.
import { decodeText } from './text.js';

export const decodeUsername = (value: Buffer): string => decodeText(value, 513, 'USERNAME');
