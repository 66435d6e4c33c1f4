// SOFTWARE (RFC 8489 §14): UTF-8 text, at most 763 bytes.
import { decodeText, encodeText } from './text.js';

export const encodeSoftware = (text: string): Buffer => encodeText(text, 763, 'SOFTWARE');
export const decodeSoftware = (value: Buffer): string => decodeText(value, 763, 'SOFTWARE');
