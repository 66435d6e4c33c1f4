// Calling the credentials API: used by `turnrelay credentials`, `turnrelay
// check` and the example application. Failures say which step failed (DNS,
// connect, TLS, HTTP status) so callers can decide to fall back or report.
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import type { IceConfiguration } from '../../relay/auth/rest-credentials.js';
import { credentialsPath, type CredentialsRequest, type RelayRef } from './request.js';

/** Where a projected ServiceAccount token for the credentials audience is conventionally mounted. */
export const DEFAULT_TOKEN_FILE = '/var/run/secrets/turnrelay.dev/credentials/token';
/** The chart's defaults: Service turnrelay-operator-credentials in turnrelay-system, port 8443. */
export const DEFAULT_API_URL = 'https://turnrelay-operator-credentials.turnrelay-system.svc:8443';

export type ApiFailure = 'dns' | 'connect' | 'tls' | 'timeout' | 'http';

export class CredentialsApiError extends Error {
  constructor(
    readonly failure: ApiFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  /** The API is not there (as opposed to answering no). */
  get unreachable(): boolean {
    return this.failure === 'dns' || this.failure === 'connect' || this.failure === 'timeout';
  }
}

export interface ApiClientOptions {
  url: string;
  token: string;
  /** PEM the server's certificate must chain to (default: the system's trust store). */
  ca?: string;
  timeoutMs?: number;
}

function classify(err: NodeJS.ErrnoException): ApiFailure {
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'dns';
  if (
    err.code === 'ECONNREFUSED' ||
    err.code === 'EHOSTUNREACH' ||
    err.code === 'ENETUNREACH' ||
    err.code === 'ECONNRESET'
  )
    return 'connect';
  if (err.code === 'ETIMEDOUT') return 'timeout';
  return err.code?.startsWith('ERR_TLS') || /certificate|SSL|TLS|self.signed/i.test(`${err.code} ${err.message}`)
    ? 'tls'
    : 'connect';
}

export async function requestCredentials(
  opts: ApiClientOptions,
  relay: RelayRef,
  wanted: CredentialsRequest = {},
): Promise<IceConfiguration> {
  const url = new URL(credentialsPath(relay), opts.url);
  if (url.protocol !== 'https:')
    throw new CredentialsApiError('tls', `credentials API URL must be https (got ${opts.url})`);
  const body = JSON.stringify(wanted);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ...(opts.ca ? { ca: opts.ca } : {}),
        minVersion: 'TLSv1.2',
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${opts.token}`,
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new CredentialsApiError(classify(err), `credentials API at ${url.origin}: ${err.message}`)),
    );
    req.end(body);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (status !== 200) {
    const message = (parsed as { error?: string } | undefined)?.error ?? text.slice(0, 200);
    throw new CredentialsApiError('http', `credentials API answered ${status}: ${message}`, status);
  }
  const config = parsed as IceConfiguration | undefined;
  if (!config || !Array.isArray(config.iceServers))
    throw new CredentialsApiError('http', 'credentials API answered 200 without iceServers', status);
  return config;
}

/** The token to present: an explicit file, else the conventional projected token if mounted. Undefined: none available. */
export async function readApiToken(file?: string): Promise<string | undefined> {
  try {
    const token = (await readFile(file ?? DEFAULT_TOKEN_FILE, 'utf8')).trim();
    return token || undefined;
  } catch (err) {
    if (file)
      throw new Error(
        `cannot read token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    return undefined;
  }
}
