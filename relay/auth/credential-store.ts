// Resolves a STUN USERNAME to the candidate passwords the server should try,
// from static users and from TURN REST shared secrets. Several secrets are
// live at once during rotation, so a REST username yields one candidate per
// secret; the server verifies MESSAGE-INTEGRITY against each.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { parseRestUsername, restPassword } from './rest-credentials.js';

export type CredentialLookup =
  { ok: true; user: string; passwords: string[] } | { ok: false; reason: 'expired' | 'unknown' | 'ttl_too_long' };

export interface LookupOptions {
  /** An expired REST username still yields its passwords (requests on an allocation it created). */
  acceptExpired?: boolean;
  /** REST usernames whose expiry lies further ahead than this are refused. */
  maxTtlSeconds?: number;
}

export class CredentialStore {
  /** As KeyObjects: each REST lookup makes one HMAC per secret (see IntegrityKey). */
  private secrets: readonly KeyObject[] = [];
  private users: ReadonlyMap<string, string> = new Map();

  /** Shared secrets, signing secret first. */
  setSecrets(secrets: string[]): void {
    this.secrets = secrets.map((s) => createSecretKey(s, 'utf8'));
  }

  setUsers(users: Map<string, string>): void {
    this.users = new Map(users);
  }

  get secretCount(): number {
    return this.secrets.length;
  }

  get userCount(): number {
    return this.users.size;
  }

  /**
   * `user` is the quota key: the static user name, or the `<user>` part of a
   * REST username (the whole username when it has none).
   */
  lookup(username: string, nowMs: number, opts: LookupOptions = {}): CredentialLookup {
    const staticPassword = this.users.get(username);
    if (staticPassword !== undefined) return { ok: true, user: username, passwords: [staticPassword] };
    if (this.secrets.length === 0) return { ok: false, reason: 'unknown' };
    const rest = parseRestUsername(username);
    if (!rest) return { ok: false, reason: 'unknown' };
    if (rest.expiry * 1000 < nowMs && !opts.acceptExpired) return { ok: false, reason: 'expired' };
    if (opts.maxTtlSeconds !== undefined && rest.expiry * 1000 > nowMs + opts.maxTtlSeconds * 1000)
      return { ok: false, reason: 'ttl_too_long' };
    return { ok: true, user: rest.user || username, passwords: this.secrets.map((s) => restPassword(s, username)) };
  }
}
