// MAPPED-ADDRESS (RFC 8489 §14.1): the plain, un-XORed form, kept for old clients' decoding needs.
import { StunDecodeError } from '../errors.js';
import { bytesToIp, ipToBytes } from '../ip.js';
import type { TransportAddress } from './xor-address.js';

export function encodeMappedAddress(addr: { address: string; port: number }): Buffer {
  const ip = ipToBytes(addr.address);
  const out = Buffer.alloc(4 + ip.length);
  out[1] = ip.length === 4 ? 0x01 : 0x02;
  out.writeUInt16BE(addr.port, 2);
  ip.copy(out, 4);
  return out;
}

export function decodeMappedAddress(value: Buffer): TransportAddress {
  const family = value[1];
  if (!((family === 1 && value.length === 8) || (family === 2 && value.length === 20))) {
    throw new StunDecodeError('bad MAPPED-ADDRESS');
  }
  return { family: family === 1 ? 4 : 6, address: bytesToIp(value.subarray(4)), port: value.readUInt16BE(2) };
}
