// LIFETIME (RFC 8656 §18.2): seconds until the allocation expires.
import { decodeU32, encodeU32 } from './u32.js';

export const encodeLifetime = (seconds: number): Buffer => encodeU32(seconds);
export const decodeLifetime = (value: Buffer): number => decodeU32(value, 'LIFETIME');
