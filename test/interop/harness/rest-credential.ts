// TURN REST API credential (the shared contract): username
// "<unix-expiry>:<user>", password base64(HMAC-SHA1(secret, username)).
// Written here independently of relay/auth so the tests check the relay
// against the contract rather than against itself.
import { createHmac } from 'node:crypto';

export function mintRestCredential(secret: string, user: string, ttlSeconds: number, nowMs = Date.now()) {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}
