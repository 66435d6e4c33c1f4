// A tiny application backend that hands browsers their WebRTC ICE servers:
// it mints short-lived TURN REST credentials from the TurnRelay's auth Secret
// (mounted as a file) and answers with RTCConfiguration JSON. The shared
// secret never leaves the server; browsers only get an HMAC that expires.
//
//   TURN_SECRETS_FILE=/var/run/turn/secrets \
//   TURN_URLS='turn:203.0.113.7:3478?transport=udp,turn:203.0.113.7:3478?transport=tcp' \
//   npx tsx examples/ice-credentials-app/server.ts
//
//   curl -H 'X-Forwarded-User: alice' http://127.0.0.1:8080/ice-servers
//
// The user identity comes from your authentication layer (here: the
// X-Forwarded-User header an authenticating proxy sets); requests without
// one are refused, so the endpoint never mints credentials for strangers.
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { mintRestCredential } from '../../relay/auth/rest-credentials.js';

export type CredentialsAppOptions = {
  /** File with the shared secrets, one per line, signing secret first (the Secret's `secrets` key). */
  secretsFile: string;
  /** TURN URIs from the TurnRelay's status.iceServers. */
  urls: string[];
  ttlSeconds: number;
  /** Header carrying the authenticated user's name. */
  userHeader?: string;
};

export type RtcConfiguration = {
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
  expiresAt: string;
};

/** The newest shared secret; re-read per request because Kubernetes swaps the mounted file on rotation. */
async function newestSecret(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').map((line) => line.trim()).find((line) => line.length > 0);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // Credentials are per user and short-lived: never cache them anywhere.
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function createCredentialsApp(options: CredentialsAppOptions): Server {
  const userHeader = (options.userHeader ?? 'x-forwarded-user').toLowerCase();
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/ice-servers') return send(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'use GET' });
    const user = req.headers[userHeader];
    if (typeof user !== 'string' || user.length === 0 || user.length > 128) {
      return send(res, 401, { error: `missing ${userHeader} header (authenticate first)` });
    }
    newestSecret(options.secretsFile).then(
      (secret) => {
        if (!secret) return send(res, 503, { error: 'no TURN shared secret available yet' });
        const minted = mintRestCredential(secret, { user, ttlSeconds: options.ttlSeconds });
        const body: RtcConfiguration = {
          iceServers: [{ urls: options.urls, username: minted.username, credential: minted.password }],
          expiresAt: minted.expiresAt.toISOString(),
        };
        send(res, 200, body);
      },
      // The secrets file is missing or unreadable: say so without details, keep serving.
      () => send(res, 503, { error: 'TURN shared secrets are not readable' }),
    );
  });
}

function fromEnvironment(): { options: CredentialsAppOptions; port: number; host: string } {
  const urls = (process.env['TURN_URLS'] ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error('set TURN_URLS to the TurnRelay status.iceServers, comma-separated');
  return {
    options: {
      secretsFile: process.env['TURN_SECRETS_FILE'] ?? '/var/run/turn/secrets',
      urls,
      ttlSeconds: Number(process.env['TURN_TTL_SECONDS'] ?? 3600),
    },
    port: Number(process.env['PORT'] ?? 8080),
    host: process.env['HOST'] ?? '127.0.0.1',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { options, port, host } = fromEnvironment();
  createCredentialsApp(options).listen(port, host, () => {
    process.stdout.write(`ice-credentials-app listening on http://${host}:${port}/ice-servers\n`);
  });
}
