import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { CredentialStore } from '../../../relay/auth/credential-store.js';
import { AuthFailureLimiter, clientBucket } from '../../../relay/auth/failure-limiter.js';
import { AuthFileError, MAX_SECRETS, parseSecretsFile, parseUsersFile } from '../../../shared/auth-files.js';
import { NonceIssuer, REMEMBERED_NONCES } from '../../../relay/auth/nonce.js';
import { mintRestCredential, parseRestUsername, restPassword } from '../../../relay/auth/rest-credentials.js';

const NOW = Date.UTC(2026, 0, 1); // ms

describe('TURN REST credentials', () => {
  test('password is base64 HMAC-SHA1 of the username (the format coturn and browsers use)', () => {
    // Independent computation of the same construction.
    const expected = createHmac('sha1', 'north').update('1767229200:alice').digest('base64');
    expect(restPassword('north', '1767229200:alice')).toBe(expected);
    expect(expected).toHaveLength(28);
  });

  test('mint puts the expiry in the username', () => {
    const c = mintRestCredential('s3cret', { user: 'alice', ttlSeconds: 3600, now: NOW });
    expect(c.username).toBe(`${NOW / 1000 + 3600}:alice`);
    expect(c.password).toBe(restPassword('s3cret', c.username));
    expect(c.expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(mintRestCredential('s3cret', { ttlSeconds: 60, now: NOW }).username).toBe(String(NOW / 1000 + 60));
  });

  test('mint rejects bad input', () => {
    expect(() => mintRestCredential('', { ttlSeconds: 60 })).toThrow(/secret is empty/);
    expect(() => mintRestCredential('s', { ttlSeconds: 0 })).toThrow(/positive/);
    expect(() => mintRestCredential('s', { ttlSeconds: 1.5 })).toThrow(/positive/);
    expect(() => mintRestCredential('s', { ttlSeconds: 60, user: 'a\nb' })).toThrow(/control/);
    expect(() => mintRestCredential('s', { ttlSeconds: 60, user: 'x'.repeat(600) })).toThrow(/too long/);
  });

  test('parseRestUsername', () => {
    expect(parseRestUsername('1767229200')).toEqual({ expiry: 1767229200, user: '' });
    expect(parseRestUsername('1767229200:alice')).toEqual({ expiry: 1767229200, user: 'alice' });
    expect(parseRestUsername('1767229200:a:b')).toEqual({ expiry: 1767229200, user: 'a:b' });
    for (const bad of ['alice', 'alice:1767229200', '', ':x', '-5:x', '1e9:x', '1234567890123:x'])
      expect(parseRestUsername(bad)).toBeNull();
  });
});

describe('CredentialStore', () => {
  test('REST usernames yield one candidate per secret, newest first; any of them verifies', () => {
    const store = new CredentialStore();
    store.setSecrets(['new', 'old']);
    const old = mintRestCredential('old', { user: 'bob', ttlSeconds: 600, now: NOW });
    const r = store.lookup(old.username, NOW);
    expect(r).toEqual({ ok: true, user: 'bob', passwords: [restPassword('new', old.username), old.password] });
  });

  test('expired credentials are refused; one that expires this second is still valid', () => {
    const store = new CredentialStore();
    store.setSecrets(['k']);
    const c = mintRestCredential('k', { user: 'bob', ttlSeconds: 10, now: NOW });
    expect(store.lookup(c.username, NOW + 10_000).ok).toBe(true);
    expect(store.lookup(c.username, NOW + 11_000)).toEqual({ ok: false, reason: 'expired' });
    // On an allocation it created, an expired username still yields its passwords.
    expect(store.lookup(c.username, NOW + 11_000, { acceptExpired: true }).ok).toBe(true);
    // A cap on how far ahead the expiry may lie.
    expect(store.lookup(c.username, NOW, { maxTtlSeconds: 5 })).toEqual({ ok: false, reason: 'ttl_too_long' });
    expect(store.lookup(c.username, NOW, { maxTtlSeconds: 10 }).ok).toBe(true);
  });

  test('static users, unknown users, and no secrets configured', () => {
    const store = new CredentialStore();
    expect(store.lookup('1999999999:x', NOW)).toEqual({ ok: false, reason: 'unknown' });
    store.setUsers(new Map([['alice', 'pw']]));
    expect(store.lookup('alice', NOW)).toEqual({ ok: true, user: 'alice', passwords: ['pw'] });
    expect(store.lookup('carol', NOW)).toEqual({ ok: false, reason: 'unknown' });
    store.setSecrets(['k']);
    expect(store.lookup('carol', NOW)).toEqual({ ok: false, reason: 'unknown' });
    // A REST username without a user part is its own quota key.
    expect(store.lookup('1999999999', NOW)).toMatchObject({ ok: true, user: '1999999999' });
  });

  test('the store keeps its own copies', () => {
    const store = new CredentialStore();
    const secrets = ['a'];
    store.setSecrets(secrets);
    secrets.push('b');
    expect(store.secretCount).toBe(1);
  });
});

describe('auth files', () => {
  test('secrets: one per line, newest first, blanks/comments skipped, duplicates dropped', () => {
    expect(parseSecretsFile('# rotated daily\nnewest\n\n  older  \r\nnewest\n')).toEqual(['newest', 'older']);
    expect(parseSecretsFile('')).toEqual([]);
  });

  test('secrets: errors name the line and never the value', () => {
    try {
      parseSecretsFile('ok\nbad\u0001value\n');
      throw new Error('expected failure');
    } catch (err) {
      expect(err).toBeInstanceOf(AuthFileError);
      expect((err as Error).message).toBe('secrets file line 2: contains control characters');
    }
    const many = Array.from({ length: MAX_SECRETS + 1 }, (_, i) => `secret-${i}`).join('\n');
    expect(() => parseSecretsFile(many)).toThrow(/at most 32/);
  });

  test('users: name:password, password may contain colons', () => {
    expect(parseUsersFile('alice:pa:ss\n# c\n\nbob:x\n')).toEqual(
      new Map([
        ['alice', 'pa:ss'],
        ['bob', 'x'],
      ]),
    );
  });

  test.each([
    ['alice\n', 'users file line 1: expected "name:password"'],
    ['ok:1\n:pw\n', 'users file line 2: empty user name'],
    ['alice:\n', 'users file line 1: empty password for user "alice"'],
    ['a:1\n\na:2\n', 'users file line 3: duplicate user "a"'],
    ['a:se\u0000cret\n', 'users file line 1: contains control characters'],
  ])('users file %j fails with %j', (text, message) => {
    expect(() => parseUsersFile(text)).toThrow(new AuthFileError(message));
  });

  test('users: an error never contains a password', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8 }).filter((p) => !p.includes('\n')),
        (password) => {
          try {
            parseUsersFile(`u:${password}\nu:${password}\n`);
          } catch (err) {
            expect((err as Error).message).not.toContain(password);
          }
        },
      ),
    );
  });
});

describe('NonceIssuer', () => {
  const issuer = new NonceIssuer({ lifetimeMs: 600_000 });

  test('fresh, stale, and bound to the client', () => {
    const n = issuer.issue('udp 192.0.2.1:5000', NOW);
    expect(n).toMatch(/^[0-9a-z]+-[A-Za-z0-9_-]{16}$/);
    expect(n.length).toBeLessThanOrEqual(24);
    expect(issuer.check(n, 'udp 192.0.2.1:5000', NOW + 1000)).toBe('ok');
    expect(issuer.check(n, 'udp 192.0.2.1:5000', NOW + 600_001)).toBe('stale');
    expect(issuer.check(n, 'udp 192.0.2.1:5001', NOW + 1000)).toBe('invalid');
  });

  test('forged, tampered and foreign nonces are invalid', () => {
    const n = issuer.issue('c', NOW);
    const other = new NonceIssuer({ lifetimeMs: 600_000 });
    expect(other.check(n, 'c', NOW)).toBe('invalid');
    const [ts, mac] = n.split('-') as [string, string];
    const later = (parseInt(ts, 36) + 1000).toString(36);
    expect(issuer.check(`${later}-${mac}`, 'c', NOW + 2000)).toBe('invalid');
    expect(issuer.check(`${ts}-${mac.slice(1)}`, 'c', NOW)).toBe('invalid');
    for (const bad of ['', '-', 'abc', '-abc', `${'z'.repeat(13)}-${mac}`, 'x'.repeat(100)])
      expect(issuer.check(bad, 'c', NOW)).toBe('invalid');
    // Issued in the future (beyond clock skew) is not accepted either.
    const future = issuer.issue('c', NOW + 60_000);
    expect(issuer.check(future, 'c', NOW)).toBe('invalid');
  });

  test('a nonce remembered as verified for one client is still judged for every other client and for staleness', () => {
    const mine = new NonceIssuer({ lifetimeMs: 600_000 });
    const n = mine.issue('udp 192.0.2.1:5000', NOW);
    expect(mine.check(n, 'udp 192.0.2.1:5000', NOW)).toBe('ok');
    expect(mine.check(n, 'udp 192.0.2.1:5000', NOW + 1000)).toBe('ok');
    expect(mine.check(n, 'udp 192.0.2.2:5000', NOW + 1000)).toBe('invalid');
    expect(mine.check(n, 'udp 192.0.2.1:5000', NOW + 600_001)).toBe('stale');
    const [ts, mac] = n.split('-') as [string, string];
    const flipped = `${ts}-${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(mine.check(flipped, 'udp 192.0.2.1:5000', NOW + 1000)).toBe('invalid');
    // A refused nonce does not replace the remembered one, and the good one still passes.
    expect(mine.check(n, 'udp 192.0.2.1:5000', NOW + 2000)).toBe('ok');
  });

  test('remembered nonces are bounded; a forgotten client is checked by its MAC again', () => {
    const mine = new NonceIssuer({ lifetimeMs: 600_000 });
    const first = mine.issue('client-0', NOW);
    for (let i = 0; i <= REMEMBERED_NONCES + 10; i++) {
      const client = `client-${i}`;
      expect(mine.check(mine.issue(client, NOW), client, NOW)).toBe('ok');
    }
    expect(mine.remembered).toBe(REMEMBERED_NONCES);
    expect(mine.check(first, 'client-0', NOW)).toBe('ok');
    expect(mine.check(first, 'client-1', NOW)).toBe('invalid');
  });

  test('a shared key makes nonces valid across instances', () => {
    const key = Buffer.alloc(32, 7);
    const a = new NonceIssuer({ lifetimeMs: 1000, key });
    const b = new NonceIssuer({ lifetimeMs: 1000, key });
    expect(b.check(a.issue('c', NOW), 'c', NOW)).toBe('ok');
  });

  test('check never throws', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (nonce, client) => {
        expect(['ok', 'stale', 'invalid']).toContain(issuer.check(nonce, client, NOW));
      }),
    );
  });
});

describe('AuthFailureLimiter', () => {
  test('blocks after maxFailures within the window, then forgives', () => {
    const l = new AuthFailureLimiter({ maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 2; i++) l.recordFailure('198.51.100.1', NOW + i);
    expect(l.isBlocked('198.51.100.1', NOW + 10)).toBe(false);
    l.recordFailure('198.51.100.1', NOW + 20);
    expect(l.isBlocked('198.51.100.1', NOW + 30)).toBe(true);
    expect(l.isBlocked('198.51.100.2', NOW + 30)).toBe(false);
    expect(l.isBlocked('198.51.100.1', NOW + 60_000)).toBe(false);
    l.recordFailure('198.51.100.1', NOW + 60_001); // new window starts at 1
    expect(l.isBlocked('198.51.100.1', NOW + 60_002)).toBe(false);
  });

  test('IPv6 clients count per /64 and mapped IPv4 counts as the IPv4', () => {
    expect(clientBucket('2001:db8:1:2::1')).toBe(clientBucket('2001:db8:1:2:ffff::9'));
    expect(clientBucket('2001:db8:1:2::1')).not.toBe(clientBucket('2001:db8:1:3::1'));
    expect(clientBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    const l = new AuthFailureLimiter({ maxFailures: 2, windowMs: 60_000 });
    l.recordFailure('2001:db8::1', NOW);
    l.recordFailure('2001:db8::2', NOW);
    expect(l.isBlocked('2001:db8::3', NOW)).toBe(true);
  });

  test('memory is capped: the least recently failing client is evicted', () => {
    const l = new AuthFailureLimiter({ maxFailures: 1, windowMs: 60_000, maxTrackedIps: 100 });
    for (let i = 0; i < 10_000; i++) l.recordFailure(`10.0.${i >> 8}.${i & 255}`, NOW);
    expect(l.trackedCount).toBe(100);
    expect(l.isBlocked('10.0.39.15', NOW)).toBe(true); // the last one (i = 9999)
    expect(l.isBlocked('10.0.0.0', NOW)).toBe(false); // long evicted
  });

  test('reset forgets a client', () => {
    const l = new AuthFailureLimiter({ maxFailures: 1, windowMs: 60_000 });
    l.recordFailure('192.0.2.1', NOW);
    l.reset('192.0.2.1');
    expect(l.isBlocked('192.0.2.1', NOW)).toBe(false);
  });
});
