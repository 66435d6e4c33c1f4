// XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS share one
// encoding (RFC 8489 §14.2): family, port XOR the cookie's top 16 bits,
// address XOR cookie (IPv4) or cookie+transaction id (IPv6).
import { MAGIC_COOKIE } from '../constants.js';
import { StunDecodeError } from '../errors.js';
import { bytesToIp, ipToBytes, ipv4ToInt, type IpFamily } from '../ip.js';

export interface TransportAddress {
  family: IpFamily;
  address: string;
  port: number;
}

const COOKIE = Buffer.from([0x21, 0x12, 0xa4, 0x42]);

function xorInto(out: Buffer, src: Buffer, transactionId: Buffer): void {
  for (let i = 0; i < src.length; i++) out[i] = src[i]! ^ (i < 4 ? COOKIE[i]! : transactionId[i - 4]!);
}

/** Length of the encoded value: 8 for IPv4, 20 for IPv6. */
export function xorAddressLength(address: string): number {
  return ipv4ToInt(address) >= 0 ? 8 : 20;
}

/**
 * Writes the attribute value at `offset` of `out` (which must have room for
 * xorAddressLength bytes). IPv4 allocates nothing, so the data plane builds
 * Data indications with it per packet.
 */
export function writeXorAddress(
  out: Buffer,
  offset: number,
  address: string,
  port: number,
  transactionId: Buffer,
): void {
  const v4 = ipv4ToInt(address);
  out[offset] = 0;
  out[offset + 1] = v4 >= 0 ? 0x01 : 0x02;
  out.writeUInt16BE((port ^ (MAGIC_COOKIE >>> 16)) & 0xffff, offset + 2);
  if (v4 >= 0) out.writeUInt32BE((v4 ^ MAGIC_COOKIE) >>> 0, offset + 4);
  else xorInto(out.subarray(offset + 4, offset + 20), ipToBytes(address), transactionId);
}

export function encodeXorAddress(addr: { address: string; port: number }, transactionId: Buffer): Buffer {
  const out = Buffer.alloc(xorAddressLength(addr.address));
  writeXorAddress(out, 0, addr.address, addr.port, transactionId);
  return out;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  if (value.length < 4) throw new StunDecodeError('address attribute too short');
  const family = value[1];
  const expected = family === 0x01 ? 8 : family === 0x02 ? 20 : -1;
  if (expected < 0) throw new StunDecodeError('unknown address family');
  if (value.length !== expected) throw new StunDecodeError('address attribute has wrong length');
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const ip = Buffer.allocUnsafe(expected - 4);
  xorInto(ip, value.subarray(4), transactionId);
  return { family: family === 0x01 ? 4 : 6, address: bytesToIp(ip), port };
}
