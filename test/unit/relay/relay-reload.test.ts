// Live reload: TLS certificate swap (old connections stay up, new handshakes
// get the new certificate), config reload (bad config rejected and the old
// one keeps serving; good config applied; files that do not even parse, or
// are gone, rejected too), malformed auth files rejected
// while the loaded credentials keep working, secrets rotation; plus TCP
// connection limits and the idle timeout.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { generateSelfSignedCert } from '../../../relay/config/dev-defaults.js';
import { mintRestCredential } from '../../../relay/auth/rest-credentials.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { errorCodeOf, isSuccess, Method, TurnTestClient } from './helpers/turn-test-client.js';
import {
  metricsText,
  metricValue,
  PASSWORD,
  SECRET,
  sleep,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('live reload', () => {
  let t: TestRelay;
  beforeEach(async () => {
    t = await startTestRelay();
  });
  afterEach(async () => {
    await t.stop();
  });

  test('a new TLS certificate is used for new handshakes while the old connection stays up', async () => {
    const oldConn = await TurnTestClient.stream('tls', t.port('tls'), { ca: t.certPem });
    const oldCert = (oldConn.streamSocket as TLSSocket).getPeerX509Certificate()!;
    expect(oldCert.fingerprint256).toBe(fingerprintOf(t.certPem));

    const next = await generateSelfSignedCert();
    await writeFile(join(t.dir, 'tls.key'), next.keyPem);
    await writeFile(join(t.dir, 'tls.crt'), next.certPem);
    await t.relay.reload();

    const newConn = await TurnTestClient.stream('tls', t.port('tls'), { ca: next.certPem });
    expect((newConn.streamSocket as TLSSocket).getPeerX509Certificate()!.fingerprint256).toBe(
      fingerprintOf(next.certPem),
    );
    // The connection made before the swap still works.
    expect(isSuccess(await oldConn.transact(oldConn.build(Method.Binding, [])))).toBe(true);
    oldConn.close();
    newConn.close();
  });

  test('a mismatched key pair is rejected and the old certificate keeps serving', async () => {
    const a = await generateSelfSignedCert();
    const b = await generateSelfSignedCert();
    await writeFile(join(t.dir, 'tls.crt'), a.certPem);
    await writeFile(join(t.dir, 'tls.key'), b.keyPem);
    await t.relay.reload();
    const conn = await TurnTestClient.stream('tls', t.port('tls'), { ca: t.certPem });
    expect((conn.streamSocket as TLSSocket).getPeerX509Certificate()!.fingerprint256).toBe(fingerprintOf(t.certPem));
    conn.close();
    expect(metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="config_reload"}')).toBe(1);
  });

  test('an invalid config file is rejected, the old config keeps serving; a valid one is applied', async () => {
    const original = JSON.parse(await (await import('node:fs/promises')).readFile(t.configFile, 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(t.configFile, JSON.stringify({ ...original, limits: { maxAllocationsPerUser: -1 } }));
    await t.relay.reload();
    expect(metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="config_reload"}')).toBe(1);
    expect(t.relay.turn.ctx.config.limits.maxAllocationsPerUser).toBe(10);

    await writeFile(t.configFile, JSON.stringify({ ...original, limits: { maxAllocationsPerUser: 1 } }));
    await t.relay.reload();
    expect(t.relay.turn.ctx.config.limits.maxAllocationsPerUser).toBe(1);
    const c1 = await TurnTestClient.udp(t.port('udp'));
    const c2 = await TurnTestClient.udp(t.port('udp'));
    expect(isSuccess(await c1.allocate(USER, PASSWORD))).toBe(true);
    expect(errorCodeOf(await c2.allocate(USER, PASSWORD))).toBe(486);
    c1.close();
    c2.close();
  });

  test('config files that do not parse on reload are rejected one by one; the old config keeps serving', async () => {
    const { rm } = await import('node:fs/promises');
    const aliasBomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = i === 0 ? 'a' : `b${i - 1}`;
        return `b${i}: &b${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join('\n');
    const hostile: Array<string | Buffer | undefined> = [
      '',
      '{{{{',
      'limits: [1',
      'limits: {}\nlimits: {}\n', // duplicate key
      '- just\n- a list\n',
      Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x0a]),
      aliasBomb,
      undefined, // the file is gone
    ];
    for (const content of hostile) {
      if (content === undefined) await rm(t.configFile);
      else await writeFile(t.configFile, content);
      const before = metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="config_reload"}');
      await t.relay.reload();
      expect(metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="config_reload"}')).toBeGreaterThan(
        before,
      );
      expect(t.relay.turn.ctx.config.limits.maxAllocationsPerUser).toBe(10);
      const c = await TurnTestClient.udp(t.port('udp'));
      expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
      c.close();
    }
  });

  test('malformed auth files on reload are rejected one by one; the loaded users and secrets keep working', async () => {
    const cred = mintRestCredential(SECRET, { user: 'rest', ttlSeconds: 600 });
    const goodUsers = `${USER}:${PASSWORD}\nbob:bob-password\n`;
    const goodSecrets = `${SECRET}\n`;
    const reloadErrors = async () =>
      metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="config_reload"}');
    // [users file, secrets file]: lines without a colon, bytes that are not UTF-8, control
    // characters in a secret, and files that leave no way to authenticate at all.
    const hostile: Array<[string | Buffer, string]> = [
      ['no-colon-on-this-line\n', goodSecrets],
      [Buffer.from([0xff, 0xfe, 0x00, 0x3a, 0x0a, 0x80]), goodSecrets],
      [goodUsers, 'new\x01secret\n'],
      ['', '\n# only a comment\n'],
    ];
    for (const [users, secrets] of hostile) {
      await writeFile(join(t.dir, 'users'), users);
      await writeFile(join(t.dir, 'secrets'), secrets);
      const before = await reloadErrors();
      await t.relay.reload();
      expect(await reloadErrors()).toBeGreaterThan(before);
      const a = await TurnTestClient.udp(t.port('udp'));
      const b = await TurnTestClient.stream('tcp', t.port('tcp'));
      expect(isSuccess(await a.allocate(USER, PASSWORD))).toBe(true);
      expect(isSuccess(await b.allocate(cred.username, cred.password))).toBe(true);
      a.close();
      b.close();
    }
  });

  test('the file watcher picks up a config change by itself', async () => {
    const original = JSON.parse(await (await import('node:fs/promises')).readFile(t.configFile, 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(t.configFile, JSON.stringify({ ...original, limits: { maxPermissionsPerAllocation: 7 } }));
    const deadline = Date.now() + 5000;
    while (t.relay.turn.ctx.config.limits.maxPermissionsPerAllocation !== 7 && Date.now() < deadline) await sleep(50);
    expect(t.relay.turn.ctx.config.limits.maxPermissionsPerAllocation).toBe(7);
  });

  test('secret rotation: credentials from the old and the new secret both work while both are listed, and no longer once it is dropped', async () => {
    const oldCred = mintRestCredential(SECRET, { user: 'x', ttlSeconds: 600 });
    await writeFile(join(t.dir, 'secrets'), `new-secret\n${SECRET}\n`);
    await t.relay.reload();
    const newCred = mintRestCredential('new-secret', { user: 'y', ttlSeconds: 600 });
    const a = await TurnTestClient.udp(t.port('udp'));
    const b = await TurnTestClient.udp(t.port('udp'));
    const c = await TurnTestClient.udp(t.port('udp'));
    try {
      expect(isSuccess(await a.allocate(oldCred.username, oldCred.password))).toBe(true);
      expect(isSuccess(await b.allocate(newCred.username, newCred.password))).toBe(true);
      await writeFile(join(t.dir, 'secrets'), 'new-secret\n');
      await t.relay.reload();
      expect(errorCodeOf(await c.allocate(oldCred.username, oldCred.password))).toBe(401);
      // The allocation made with the retired secret's credential does not keep its key: its next
      // request is refused; the other one's goes on being answered.
      expect(errorCodeOf(await a.refresh(600))).toBe(401);
      expect(isSuccess(await b.refresh(600))).toBe(true);
    } finally {
      for (const x of [a, b, c]) x.close();
    }
  });
});

describe('reload of settings it cannot apply', () => {
  const reloadWarnings = async (dataPlane: 'node' | 'native') => {
    const { lines, log } = recordingLogger();
    const t = await startTestRelay(
      { relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, dataPlane } },
      log,
    );
    try {
      const original = JSON.parse(await readFile(t.configFile, 'utf8')) as { relay: Record<string, unknown> };
      const relay = { ...original.relay, threads: 2, coalesceMicros: 0 };
      await writeFile(t.configFile, JSON.stringify({ ...original, relay }));
      await t.relay.reload();
      return lines.filter((l) => l.level === 'warn' && typeof l.field === 'string').map((l) => [l.field, l.msg]);
    } finally {
      await t.stop();
    }
  };

  test('a JavaScript-plane relay says the native-only settings are unused there, not that a restart applies them', async () => {
    const unused = /JavaScript data plane running here does not use it/;
    expect(await reloadWarnings('node')).toEqual([
      ['relay.threads', expect.stringMatching(unused)],
      ['relay.coalesceMicros', expect.stringMatching(unused)],
    ]);
  });

  test('a native-plane relay says they take effect after a restart', async () => {
    const restart = /takes effect only after a restart/;
    expect(await reloadWarnings('native')).toEqual([
      ['relay.threads', expect.stringMatching(restart)],
      ['relay.coalesceMicros', expect.stringMatching(restart)],
    ]);
  });
});

describe('stream connection limits', () => {
  test('connections beyond maxConnectionsPerIp are closed; idle connections without allocation time out', async () => {
    const t = await startTestRelay({ limits: { maxConnectionsPerIp: 2, connectionIdleTimeoutSeconds: 1 } });
    try {
      const open = () =>
        new Promise<{ closed: Promise<void> }>((resolve) => {
          const s = tcpConnect({ port: t.port('tcp'), host: '127.0.0.1' }, () => resolve({ closed }));
          const closed = new Promise<void>((r) => s.on('close', () => r()));
          s.on('error', () => {});
        });
      const a = await open();
      const b = await open();
      const c = await open();
      const closedFirst = await Promise.race([c.closed.then(() => 'c'), sleep(500).then(() => 'none')]);
      expect(closedFirst).toBe('c');
      expect(metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="connection_limit"}')).toBe(1);
      // a and b carry no allocation: the idle timeout closes them.
      const idle = await Promise.race([
        Promise.all([a.closed, b.closed]).then(() => 'closed'),
        sleep(3000).then(() => 'open'),
      ]);
      expect(idle).toBe('closed');
    } finally {
      await t.stop();
    }
  });
});
