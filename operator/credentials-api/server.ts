// The credentials API: an HTTPS endpoint on the operator where workloads
// trade their own ServiceAccount token for a short-lived TURN credential of a
// TurnRelay RBAC lets them use. They never see the shared secret.
//
//   POST /v1/namespaces/{ns}/turnrelays/{name}/credentials
//   Authorization: Bearer <token for audience turnrelay.dev/credentials>
//   {"user": "alice", "ttlSeconds": 600}          (both optional)
//   → 200 RTCConfiguration JSON {"iceServers": [...], "expiresAt": "..."}
//
// Every input is hostile until proven otherwise: bodies are bounded, slow
// clients time out, failed authentications are rate limited per client
// address before they cost a TokenReview, callers are rate limited per
// identity, and concurrent reviews are capped. Each issuance is logged (who,
// relay, user, TTL); the credential and the secret never are.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { iceConfiguration } from '../../relay/auth/rest-credentials.js';
import { MintError, readMintSource } from '../credentials.js';
import { KubeApiError, type KubeRest } from '../runtime/kube-rest.js';
import { KeyedLimiter } from './keyed-limiter.js';
import {
  CREDENTIALS_AUDIENCE,
  MAX_BODY_BYTES,
  RequestError,
  issuedTtl,
  parseCredentialsPath,
  parseCredentialsRequest,
  relayCredentialTtl,
} from './request.js';
import { authenticate, authorize } from './review.js';
import type { ServingCert } from './serving-cert.js';

export interface RateSettings {
  qps: number;
  burst: number;
}

export interface CredentialsApiOptions {
  rest: KubeRest;
  host: string;
  /** 0 picks a free port. */
  port: number;
  cert: ServingCert;
  /** Re-reads the key pair (mounted files that cert-manager renews); checked every `reloadEveryMs`. */
  reloadCert?: () => Promise<ServingCert>;
  reloadEveryMs?: number;
  log: Logger;
  audience?: string;
  /** Issuances per caller identity. */
  perIdentity?: RateSettings;
  /** Failed authentications per client address. */
  failuresPerAddress?: RateSettings;
  /** TokenReviews/SubjectAccessReviews in flight at once; more get 503. */
  maxInFlight?: number;
  /** Whole request, headers and body, must arrive within this. */
  requestTimeoutMs?: number;
  /** Told the status of every answer (metrics). */
  observe?: (status: number) => void;
  now?: () => number;
}

export interface CredentialsApi {
  port: number;
  close(): Promise<void>;
}

const DEFAULT_PER_IDENTITY: RateSettings = { qps: 5, burst: 20 };
const DEFAULT_FAILURES_PER_ADDRESS: RateSettings = { qps: 2, burst: 20 };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  // Credentials are per caller and short-lived: nothing may cache them.
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer ([!-~]{1,8192})$/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

const retryAfter = (ms: number) => ({ 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) });

export async function startCredentialsApi(opts: CredentialsApiOptions): Promise<CredentialsApi> {
  const { rest, log } = opts;
  const audience = opts.audience ?? CREDENTIALS_AUDIENCE;
  const now = opts.now ?? Date.now;
  const perIdentity = new KeyedLimiter({ ...(opts.perIdentity ?? DEFAULT_PER_IDENTITY), now });
  const failures = new KeyedLimiter({ ...(opts.failuresPerAddress ?? DEFAULT_FAILURES_PER_ADDRESS), now });
  const maxInFlight = opts.maxInFlight ?? 32;
  let inFlight = 0;
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (!res.headersSent) opts.observe?.(status);
    reply(res, status, body, headers);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const relay = parseCredentialsPath(req.url ?? '/');
    if (!relay) throw new HttpError(404, 'not found; POST /v1/namespaces/{namespace}/turnrelays/{name}/credentials');
    if (req.method !== 'POST') throw new HttpError(405, 'use POST', { Allow: 'POST' });
    const address = req.socket.remoteAddress ?? 'unknown';
    const blocked = failures.wait(address);
    if (blocked > 0) throw new HttpError(429, 'too many failed authentications from this address', retryAfter(blocked));
    const token = bearerToken(req);
    if (!token) {
      failures.take(address);
      throw new HttpError(
        401,
        `send a ServiceAccount token for audience "${audience}" as "Authorization: Bearer <token>"`,
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    const wanted = parseCredentialsRequest(await readBody(req));
    if (inFlight >= maxInFlight) throw new HttpError(503, 'busy, retry shortly', { 'Retry-After': '1' });
    inFlight++;
    try {
      const who = await authenticate(rest, token, audience);
      if (!who) {
        failures.take(address);
        throw new HttpError(401, `token not valid for audience "${audience}"`, { 'WWW-Authenticate': 'Bearer' });
      }
      const wait = perIdentity.take(who.username);
      if (wait > 0) throw new HttpError(429, 'rate limit for this identity exceeded', retryAfter(wait));
      const verdict = await authorize(rest, who, relay);
      if (!verdict.allowed) {
        log.info(
          { caller: who.username, relay: `${relay.namespace}/${relay.name}` },
          'credentials refused: not authorized',
        );
        throw new HttpError(
          403,
          `${who.username} may not create turnrelays/credentials for ${relay.namespace}/${relay.name}`,
        );
      }
      const source = await readMintSource(rest, relay.namespace, relay.name);
      const ttlSeconds = issuedTtl(wanted.ttlSeconds, relayCredentialTtl(source.relay.spec));
      const user = wanted.user ?? who.username;
      const config = iceConfiguration(source.signingSecret, { urls: source.urls, user, ttlSeconds, now: now() });
      log.info(
        {
          caller: who.username,
          callerUid: who.uid,
          relay: `${relay.namespace}/${relay.name}`,
          user,
          ttlSeconds,
          expiresAt: config.expiresAt,
        },
        'credentials issued',
      );
      send(res, 200, config);
    } finally {
      inFlight--;
    }
  }

  const server = https.createServer(
    // Timeouts are enforced by a periodic sweep; check every second, not every 30 s.
    { cert: opts.cert.certPem, key: opts.cert.keyPem, minVersion: 'TLSv1.2', connectionsCheckingInterval: 1_000 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) send(res, err.status, { error: err.message }, err.headers);
        else if (err instanceof RequestError) send(res, err.status, { error: err.message });
        else if (err instanceof MintError) send(res, err.notFound ? 404 : 503, { error: err.message });
        else {
          // The API server failed or is unreachable: say so without its details, keep serving.
          log.warn(
            { err: err instanceof KubeApiError ? `${err.code} ${err.reason ?? ''}` : (err as Error).message },
            'credentials request failed',
          );
          send(res, 503, { error: 'the Kubernetes API could not be reached; retry shortly' }, { 'Retry-After': '1' });
        }
      });
    },
  );
  server.requestTimeout = opts.requestTimeoutMs ?? 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 5_000);
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  server.maxConnections = 1024;
  // A TLS handshake that never finishes holds a socket too.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });

  let current = opts.cert;
  const reload = opts.reloadCert;
  const timer = reload
    ? setInterval(() => {
        reload().then(
          (next) => {
            if (next.certPem === current.certPem && next.keyPem === current.keyPem) return;
            server.setSecureContext({ cert: next.certPem, key: next.keyPem, minVersion: 'TLSv1.2' });
            current = next;
            log.info('credentials API serving certificate reloaded');
          },
          (err: unknown) =>
            log.warn(
              { err: (err as Error).message },
              'credentials API serving certificate not reloaded; keeping the current one',
            ),
        );
      }, opts.reloadEveryMs ?? 60_000)
    : undefined;
  timer?.unref();

  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
