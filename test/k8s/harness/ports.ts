// Loopback TCP ports for the control plane. The components cannot take port 0
// and report back, so the harness picks ports the kernel says are free.
import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';

/** A port the control plane needs is taken (by the time a component binds it, or before). */
export class PortInUseError extends Error {}

function listen(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: HOST, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct free ports (held together while choosing, so never repeated). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(0)));
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address for a port-0 listener');
    return address.port;
  });
  await Promise.all(servers.map(close));
  return ports;
}

/** Throws an error naming the port and its user when something already listens there. */
export async function assertPortFree(port: number, user: string): Promise<void> {
  let server: Server;
  try {
    server = await listen(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new PortInUseError(`control plane: port ${HOST}:${port} for ${user} is already in use`, { cause: error });
    }
    throw new Error(`control plane: port ${HOST}:${port} for ${user} cannot be bound (${code ?? String(error)})`, {
      cause: error,
    });
  }
  await close(server);
}
