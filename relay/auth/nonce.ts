// Stateless nonces: the nonce is its own issue time plus an HMAC binding that
// time to the client (its IP address), so the relay keeps no per-client
// state and memory stays bounded however many clients knock. A valid nonce
// proves its sender received our 401 at that address. Compact (23
// characters: seconds in base 36, a 96-bit MAC) because it rides in the
// unauthenticated 401 that reflection attacks would amplify. A nonce from
// another client or another relay instance is 'invalid'; an old one is
// 'stale' (the server answers 438 and the client retries with the new one).
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const MAC_BYTES = 12;
const MAX_CLOCK_SKEW_MS = 5_000;
/** Clients whose last verified nonce is remembered (about 100 bytes each). */
export const REMEMBERED_NONCES = 10_000;

export class NonceIssuer {
  private readonly lifetimeMs: number;
  /** A KeyObject: createHmac with a Buffer key costs several times the HMAC (see IntegrityKey). */
  private readonly key: KeyObject;
  /**
   * Client key -> the last nonce whose MAC checked out for it, oldest first. A client sends the
   * same nonce with every request until it goes stale, so its next ones skip the HMAC (about a
   * tenth of the JavaScript CPU of a request). Only nonces that passed the MAC get in, and a
   * hit still needs the exact string from the same client, so it accepts nothing the MAC would
   * refuse; staleness is judged on every check.
   */
  private readonly verified = new Map<string, string>();

  constructor(opts: { lifetimeMs: number; key?: Buffer }) {
    if (!(opts.lifetimeMs > 0)) throw new Error('nonce lifetime must be positive');
    this.lifetimeMs = opts.lifetimeMs;
    this.key = createSecretKey(opts.key ?? randomBytes(32));
  }

  private mac(issued: string, clientKey: string): Buffer {
    return createHmac('sha256', this.key).update(`${issued}\0${clientKey}`).digest().subarray(0, MAC_BYTES);
  }

  /** A nonce of about 23 characters from [0-9a-zA-Z_-], safe as a STUN NONCE (quoted-string). */
  issue(clientKey: string, nowMs: number): string {
    const issued = Math.floor(nowMs / 1000).toString(36);
    return `${issued}-${this.mac(issued, clientKey).toString('base64url')}`;
  }

  check(nonce: string, clientKey: string, nowMs: number): 'ok' | 'stale' | 'invalid' {
    if (nonce.length > 64) return 'invalid';
    const dash = nonce.indexOf('-');
    if (dash < 1 || dash > 12) return 'invalid';
    const issued = nonce.slice(0, dash);
    if (!/^[0-9a-z]+$/.test(issued)) return 'invalid';
    if (this.verified.get(clientKey) !== nonce) {
      const given = Buffer.from(nonce.slice(dash + 1), 'base64url');
      if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(issued, clientKey))) return 'invalid';
      this.remember(clientKey, nonce);
    }
    const issuedMs = parseInt(issued, 36) * 1000;
    if (issuedMs > nowMs + MAX_CLOCK_SKEW_MS) return 'invalid';
    return nowMs - issuedMs > this.lifetimeMs ? 'stale' : 'ok';
  }

  /** How many clients have a remembered nonce (at most REMEMBERED_NONCES). */
  get remembered(): number {
    return this.verified.size;
  }

  private remember(clientKey: string, nonce: string): void {
    this.verified.delete(clientKey);
    this.verified.set(clientKey, nonce);
    if (this.verified.size > REMEMBERED_NONCES) this.verified.delete(this.verified.keys().next().value!);
  }
}
