// Readiness probe for any TURN server: a bare STUN Binding request over UDP
// (RFC 8489, no attributes) answered by a success response means the UDP
// listener is up.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const MAGIC_COOKIE = 0x2112a442;

export async function waitForStunBinding(host: string, port: number, timeoutMs: number): Promise<void> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const transactionId = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt16BE(0, 2);
  request.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(request, 8);
  const answered = new Promise<void>((resolve) => {
    socket.on('message', (msg) => {
      if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(transactionId)) resolve();
    });
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      socket.send(request, port, host);
      const ok = await Promise.race([answered.then(() => true), sleep(100).then(() => false)]);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`no STUN Binding answer from ${host}:${port} within ${timeoutMs} ms`);
    }
  } finally {
    socket.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
