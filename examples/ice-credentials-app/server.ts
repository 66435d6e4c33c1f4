// A tiny application backend that hands browsers their WebRTC ICE servers
// as RTCConfiguration JSON. Two ways to get the credentials:
//
// - the credentials API (recommended in the cluster): the app presents its
//   own ServiceAccount token (projected for audience turnrelay.dev/credentials)
//   to the operator, RBAC decides, and the app never holds the shared secret;
//
//     TURN_CREDENTIALS_API=https://turnrelay-operator-credentials.turnrelay-system.svc:8443 \
//     TURNRELAY_NAMESPACE=media TURNRELAY_NAME=edge TURN_CA_FILE=/var/run/turnrelay-ca/ca.crt \
//     npx tsx examples/ice-credentials-app/server.ts
//
// - the relay's auth Secret mounted as a file (clusters that want it, or
//   outside Kubernetes): the app mints credentials itself;
//
//     TURN_SECRETS_FILE=/var/run/turn/secrets \
//     TURN_URLS='turn:203.0.113.7:3478?transport=udp,turn:203.0.113.7:3478?transport=tcp' \
//     npx tsx examples/ice-credentials-app/server.ts
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
import { parseSecretsFile } from '../../shared/auth-files.js';
import { CredentialsApiError, DEFAULT_TOKEN_FILE, requestCredentials } from '../../operator/credentials-api/client.js';

/** Ask the operator's credentials API with the pod's own ServiceAccount token. */
export type ApiSource = {
  kind: 'api';
  url: string;
  namespace: string;
  name: string;
  /** Projected ServiceAccount token for audience turnrelay.dev/credentials; re-read per request (the kubelet rotates it). */
  tokenFile: string;
  /** CA of the API's certificate (the operator's published CA); default: the system store. */
  ca?: string;
};

/** Mint locally from the TurnRelay's auth Secret mounted as a file. */
export type SecretsFileSource = {
  kind: 'secrets-file';
  /** File with the shared secrets, one per line, signing secret first (the Secret's `secrets` key). */
  secretsFile: string;
  /** TURN URIs from the TurnRelay's status.iceServers. */
  urls: string[];
};

export type CredentialsAppOptions = {
  source: ApiSource | SecretsFileSource;
  /** Requested lifetime; the API caps it at the relay's credentialTTL. */
  ttlSeconds: number;
  /** Header carrying the authenticated user's name. */
  userHeader?: string;
};

export type RtcConfiguration = {
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
  expiresAt: string;
};

class Unavailable extends Error {}

/** The newest shared secret; re-read per request because Kubernetes swaps the mounted file on rotation. */
async function newestSecret(file: string): Promise<string | undefined> {
  return parseSecretsFile(await readFile(file, 'utf8'))[0];
}

async function credentialsFor(
  source: ApiSource | SecretsFileSource,
  user: string,
  ttlSeconds: number,
): Promise<RtcConfiguration> {
  if (source.kind === 'api') {
    let token: string;
    try {
      token = (await readFile(source.tokenFile, 'utf8')).trim();
    } catch {
      throw new Unavailable('no ServiceAccount token for the credentials API is mounted');
    }
    try {
      return await requestCredentials({ url: source.url, token, ...(source.ca ? { ca: source.ca } : {}) }, source, {
        user,
        ttlSeconds,
      });
    } catch (err) {
      // 401/403 mean the deployment is misconfigured (audience, RBAC), not the browser's fault.
      throw new Unavailable(
        err instanceof CredentialsApiError && err.status
          ? `credentials API refused this app (${err.status})`
          : 'credentials API not reachable',
      );
    }
  }
  let secret: string | undefined;
  try {
    secret = await newestSecret(source.secretsFile);
  } catch {
    throw new Unavailable('TURN shared secrets are not readable');
  }
  if (!secret) throw new Unavailable('no TURN shared secret available yet');
  const minted = mintRestCredential(secret, { user, ttlSeconds });
  return {
    iceServers: [{ urls: source.urls, username: minted.username, credential: minted.password }],
    expiresAt: minted.expiresAt.toISOString(),
  };
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
    const user = req.headers[userHeader];
    if (path !== '/ice-servers') send(res, 404, { error: 'not found' });
    else if (req.method !== 'GET') send(res, 405, { error: 'use GET' });
    else if (typeof user !== 'string' || user.length === 0 || user.length > 128) {
      send(res, 401, { error: `missing ${userHeader} header (authenticate first)` });
    } else {
      credentialsFor(options.source, user, options.ttlSeconds).then(
        (body) => send(res, 200, body),
        // Say what is wrong without details (paths, upstream messages), and keep serving.
        (err: unknown) =>
          send(res, 503, { error: err instanceof Unavailable ? err.message : 'TURN credentials unavailable' }),
      );
    }
  });
}

async function fromEnvironment(): Promise<{ options: CredentialsAppOptions; port: number; host: string }> {
  const env = process.env;
  const ttlSeconds = Number(env['TURN_TTL_SECONDS'] ?? 3600);
  let source: ApiSource | SecretsFileSource;
  if (env['TURN_CREDENTIALS_API']) {
    const namespace = env['TURNRELAY_NAMESPACE'];
    const name = env['TURNRELAY_NAME'];
    if (!namespace || !name)
      throw new Error('set TURNRELAY_NAMESPACE and TURNRELAY_NAME to the TurnRelay to get credentials for');
    const caFile = env['TURN_CA_FILE'];
    source = {
      kind: 'api',
      url: env['TURN_CREDENTIALS_API'],
      namespace,
      name,
      tokenFile: env['TURN_TOKEN_FILE'] ?? DEFAULT_TOKEN_FILE,
      ...(caFile ? { ca: await readFile(caFile, 'utf8') } : {}),
    };
  } else {
    const urls = (env['TURN_URLS'] ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (urls.length === 0)
      throw new Error(
        'set TURN_CREDENTIALS_API (recommended) or TURN_SECRETS_FILE and TURN_URLS (the TurnRelay status.iceServers, comma-separated)',
      );
    source = { kind: 'secrets-file', secretsFile: env['TURN_SECRETS_FILE'] ?? '/var/run/turn/secrets', urls };
  }
  return { options: { source, ttlSeconds }, port: Number(env['PORT'] ?? 8080), host: env['HOST'] ?? '127.0.0.1' };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { options, port, host } = await fromEnvironment();
  createCredentialsApp(options).listen(port, host, () => {
    process.stdout.write(
      `ice-credentials-app listening on http://${host}:${port}/ice-servers (${options.source.kind})\n`,
    );
  });
}
