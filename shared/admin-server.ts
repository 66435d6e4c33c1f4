// The admin HTTP endpoint of the relay and of the operator: /metrics
// (Prometheus), /healthz (the event loop answers), /readyz (200 when the
// caller's ready() says so: the relay serves its clients, the operator has
// synced caches while leading or waits as a standby; 503 otherwise), and any
// further readiness paths the caller names (the relay's
// /readyz/new-allocations).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => boolean;
  /** More readiness endpoints by path, answered like /readyz. */
  readiness?: Readonly<Record<string, () => boolean>>;
}): Promise<AdminServer> {
  const readiness: Record<string, () => boolean> = { ...opts.readiness, '/readyz': opts.ready };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        () => res.writeHead(500).end('metrics collection failed\n'),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path && Object.hasOwn(readiness, path)) {
      const ready = readiness[path]!();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  // Scrapers and probes send small requests: a client that trickles one in
  // or idles on a kept-alive socket is cut off instead of holding it open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    host: opts.host,
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
