// Minimal reader for classic pcap files written by `tcpdump -w` on Linux
// loopback or "any": enough to pull IPv4/IPv6 UDP and TCP payloads out.

export interface CapturedPacket {
  protocol: 'udp' | 'tcp';
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export function readPcap(file: Buffer): CapturedPacket[] {
  if (file.length < 24) throw new Error('pcap file shorter than its global header');
  const magic = file.readUInt32LE(0);
  let little: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) little = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) little = false;
  else throw new Error(`not a classic pcap file (magic 0x${magic.toString(16)}); use tcpdump -w`);
  const u32 = (offset: number) => (little ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const linkType = u32(20) & 0xffff;
  const packets: CapturedPacket[] = [];
  for (let offset = 24; offset + 16 <= file.length;) {
    const capturedLength = u32(offset + 8);
    const start = offset + 16;
    const frame = file.subarray(start, Math.min(start + capturedLength, file.length));
    offset = start + capturedLength;
    const ip = networkLayer(frame, linkType);
    const packet = ip && parseIp(ip);
    if (packet) packets.push(packet);
  }
  return packets;
}

function networkLayer(frame: Buffer, linkType: number): Buffer | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return frame.length >= 14 ? frame.subarray(14) : undefined;
    case LINKTYPE_NULL:
      return frame.subarray(4);
    case LINKTYPE_RAW:
      return frame;
    case LINKTYPE_LINUX_SLL:
      return frame.subarray(16);
    case LINKTYPE_LINUX_SLL2:
      return frame.subarray(20);
    default:
      throw new Error(`unsupported pcap link type ${linkType}`);
  }
}

function parseIp(ip: Buffer): CapturedPacket | undefined {
  if (ip.length < 1) return undefined;
  const version = ip[0]! >> 4;
  let protocol: number;
  let src: string;
  let dst: string;
  let transport: Buffer;
  if (version === 4 && ip.length >= 20) {
    const headerLength = (ip[0]! & 0x0f) * 4;
    const totalLength = ip.readUInt16BE(2);
    protocol = ip[9]!;
    src = [...ip.subarray(12, 16)].join('.');
    dst = [...ip.subarray(16, 20)].join('.');
    transport = ip.subarray(headerLength, Math.min(totalLength, ip.length));
  } else if (version === 6 && ip.length >= 40) {
    protocol = ip[6]!; // extension headers are not used by this traffic
    src = ipv6Text(ip.subarray(8, 24));
    dst = ipv6Text(ip.subarray(24, 40));
    transport = ip.subarray(40, 40 + ip.readUInt16BE(4));
  } else {
    return undefined;
  }
  if (protocol === 17 && transport.length >= 8) {
    return {
      protocol: 'udp',
      src,
      dst,
      srcPort: transport.readUInt16BE(0),
      dstPort: transport.readUInt16BE(2),
      payload: transport.subarray(8, transport.readUInt16BE(4)),
    };
  }
  if (protocol === 6 && transport.length >= 20) {
    const dataOffset = (transport[12]! >> 4) * 4;
    return {
      protocol: 'tcp',
      src,
      dst,
      srcPort: transport.readUInt16BE(0),
      dstPort: transport.readUInt16BE(2),
      payload: transport.subarray(dataOffset),
    };
  }
  return undefined;
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}
