// TURN REST API ephemeral credentials (draft-uberti-behave-turn-rest, as
// implemented by coturn and consumed by browsers): the username carries its
// own expiry, and the password is an HMAC of the username under a shared
// secret the application server and the relay both know.
import { createHmac, type KeyObject } from 'node:crypto';

const MAX_USERNAME_BYTES = 512; // STUN USERNAME limit (RFC 8489 section 14.3)

/** The secret as a string (utf-8) or a KeyObject of its utf-8 bytes. */
export function restPassword(secret: string | KeyObject, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** `<unix-expiry-seconds>` or `<unix-expiry-seconds>:<user>`; null for anything else. */
export function parseRestUsername(username: string): { expiry: number; user: string } | null {
  const match = /^(\d{1,12})(?::(.*))?$/s.exec(username);
  if (!match) return null;
  return { expiry: Number(match[1]), user: match[2] ?? '' };
}

export function mintRestCredential(
  secret: string,
  opts: { user?: string; ttlSeconds: number; now?: number },
): { username: string; password: string; expiresAt: Date } {
  if (!secret) throw new Error('cannot mint a credential: the shared secret is empty');
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < 1) {
    throw new Error(`ttlSeconds must be a positive whole number of seconds (got ${opts.ttlSeconds})`);
  }
  const user = opts.user ?? '';
  if (/[\x00-\x1f\x7f]/.test(user)) throw new Error('user must not contain control characters');
  const expiry = Math.floor((opts.now ?? Date.now()) / 1000) + opts.ttlSeconds;
  const username = user ? `${expiry}:${user}` : String(expiry);
  if (Buffer.byteLength(username) > MAX_USERNAME_BYTES)
    throw new Error(`user is too long (username must fit in ${MAX_USERNAME_BYTES} bytes)`);
  return { username, password: restPassword(secret, username), expiresAt: new Date(expiry * 1000) };
}

/** What applications put in RTCConfiguration, plus when the credential expires. */
export interface IceConfiguration {
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
  expiresAt: string;
}

/** One REST credential, minted with the signing secret, for the given ICE server URLs. */
export function iceConfiguration(
  signingSecret: string,
  opts: { urls: string[]; user?: string; ttlSeconds: number; now?: number },
): IceConfiguration {
  const cred = mintRestCredential(signingSecret, opts);
  return {
    iceServers: [{ urls: opts.urls, username: cred.username, credential: cred.password }],
    expiresAt: cred.expiresAt.toISOString(),
  };
}
