import { X509Certificate } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseSecretsFile } from '../../../shared/auth-files.js';
import { createDevSetup } from '../../../relay/config/dev-defaults.js';
import { RelayConfigSchema } from '../../../relay/config/schema.js';

const afterCleanup: string[] = [];
afterAll(() => Promise.all(afterCleanup.map((d) => rm(d, { recursive: true, force: true }))));

test('dev setup: loopback listeners, private secret file, working self-signed certificate', async () => {
  const dev = await createDevSetup({ quiet: true });
  const other = await createDevSetup({ quiet: true });
  afterCleanup.push(dev.dir, other.dir);
  const { config } = dev;
  expect(config.listeners).toEqual([
    { protocol: 'udp', host: '127.0.0.1', port: 3478 },
    { protocol: 'tcp', host: '127.0.0.1', port: 3478 },
    { protocol: 'tls', host: '127.0.0.1', port: 5349 },
  ]);
  expect(config.relay.host).toBe('127.0.0.1');
  expect(config.admin).toEqual({ host: '127.0.0.1', port: 9641 });
  expect(config.peers.allowCIDRs).toEqual(['127.0.0.0/8', '::1/128']);
  expect(RelayConfigSchema.parse(config)).toEqual(config); // valid per the schema
  expect(dev.warnings.join(' ')).toMatch(/loopback peers/);

  // Secret: fresh, random, and only readable by us.
  expect(dev.secret.length).toBeGreaterThanOrEqual(40);
  expect(other.secret).not.toBe(dev.secret);
  expect(other.certPem).not.toBe(dev.certPem);
  const secretsFile = config.auth.secretsFile as string;
  expect(parseSecretsFile(await readFile(secretsFile, 'utf8'))).toEqual([dev.secret]);
  expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
  expect((await stat(config.tls!.keyFile)).mode & 0o777).toBe(0o600);
  expect((await stat(dev.dir)).mode & 0o777).toBe(0o700);

  // Certificate: ECDSA P-256, valid now, for 127.0.0.1 and localhost.
  const cert = new X509Certificate(dev.certPem);
  expect(cert.publicKey.asymmetricKeyType).toBe('ec');
  expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(cert.checkHost('localhost')).toBe('localhost');
  expect(new Date(cert.validFrom).getTime()).toBeLessThan(Date.now());
  expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 86_400_000);

  // And a real TLS handshake that verifies it (as a client trusting it would).
  const server = createServer(
    { cert: await readFile(config.tls!.certFile), key: await readFile(config.tls!.keyFile), minVersion: 'TLSv1.2' },
    (s) => s.end('hi'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const sock: TLSSocket = connect({ host: '127.0.0.1', port, ca: dev.certPem, servername: 'localhost' }, () => {
        sock.setEncoding('utf8');
        sock.on('data', resolve);
      });
      sock.on('error', reject);
    });
    expect(reply).toBe('hi');
  } finally {
    server.close();
  }
});
