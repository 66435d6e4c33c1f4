// Free-port discovery for programs that cannot take port 0 themselves
// (turnutils_peer, turnserver). Bind port 0, read the number, release it.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A port free for both UDP and TCP, since a TURN listener usually takes both. */
export async function freeUdpTcpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeUdpPort(host);
    if (await tcpPortFree(host, port)) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host}`);
}

async function tcpPortFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A random 200-port block in the dynamic range for relay sockets. Relays
 * started in parallel (other test files, benchmarks) rarely collide, and the
 * block doubles as a capture filter.
 */
export function randomPortBlock(size = 200): { min: number; max: number } {
  const blocks = Math.floor((65535 - 49152) / size);
  const min = 49152 + Math.floor(Math.random() * blocks) * size;
  return { min, max: min + size - 1 };
}
