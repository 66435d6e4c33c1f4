// The pure part of the credentials API: which TurnRelay a request names, what
// it asks for, and how long the credential may live. No I/O here.
import { durationSeconds } from '../api/duration.js';
import { AuthSchema } from '../api/turnrelay.js';

/** Tokens for this API must be minted for this audience (TokenRequest / projected volume). */
export const CREDENTIALS_AUDIENCE = 'turnrelay.dev/credentials';
/** The RBAC grant that authorizes a caller: verb create on turnrelays/credentials. */
export const CREDENTIALS_RESOURCE = {
  group: 'turnrelay.dev',
  resource: 'turnrelays',
  subresource: 'credentials',
  verb: 'create',
} as const;
/** Largest request body accepted (the body is at most a user name and a TTL). */
export const MAX_BODY_BYTES = 4096;
const MAX_USER_BYTES = 128;

export interface RelayRef {
  namespace: string;
  name: string;
}

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The one route: /v1/namespaces/{namespace}/turnrelays/{name}/credentials. */
export function credentialsPath(ref: RelayRef): string {
  return `/v1/namespaces/${encodeURIComponent(ref.namespace)}/turnrelays/${encodeURIComponent(ref.name)}/credentials`;
}

/** The relay a request path names, or undefined when the path is not the credentials route. */
export function parseCredentialsPath(url: string): RelayRef | undefined {
  const path = url.split('?')[0]!;
  const m = /^\/v1\/namespaces\/([^/]+)\/turnrelays\/([^/]+)\/credentials$/.exec(path);
  if (!m) return undefined;
  const namespace = m[1]!;
  const name = m[2]!;
  return DNS_LABEL.test(namespace) && DNS_SUBDOMAIN.test(name) ? { namespace, name } : undefined;
}

export interface CredentialsRequest {
  /** Whom the credential is for; the relay counts its allocation quota per user. */
  user?: string;
  ttlSeconds?: number;
}

/** Parses the optional JSON body `{"user"?: string, "ttlSeconds"?: number}`. */
export function parseCredentialsRequest(body: string): CredentialsRequest {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RequestError(400, 'body must be JSON: {"user": "...", "ttlSeconds": N}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new RequestError(400, 'body must be a JSON object');
  const { user, ttlSeconds, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new RequestError(400, `unknown field(s): ${unknown.slice(0, 5).join(', ')}`);
  const out: CredentialsRequest = {};
  if (user !== undefined) {
    if (
      typeof user !== 'string' ||
      user === '' ||
      Buffer.byteLength(user) > MAX_USER_BYTES ||
      /[\x00-\x1f\x7f]/.test(user)
    ) {
      throw new RequestError(
        400,
        `user must be a non-empty string of at most ${MAX_USER_BYTES} bytes without control characters`,
      );
    }
    out.user = user;
  }
  if (ttlSeconds !== undefined) {
    if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1)
      throw new RequestError(400, 'ttlSeconds must be a positive whole number');
    out.ttlSeconds = ttlSeconds;
  }
  return out;
}

/** The relay's credentialTTL in seconds (its schema default when unset). */
export function relayCredentialTtl(spec: { auth?: unknown } | undefined): number {
  return durationSeconds(AuthSchema.parse(spec?.auth ?? {}).credentialTTL);
}

/** The lifetime issued: what was asked for, never more than the relay's credentialTTL. */
export function issuedTtl(requested: number | undefined, relayTtl: number): number {
  return Math.min(requested ?? relayTtl, relayTtl);
}
