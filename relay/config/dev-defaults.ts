// The zero-config relay: everything a developer needs to try the relay on
// this machine, generated fresh on every start and kept in a private temp
// directory. Loopback only. Loopback peers are allowed here (the built-in
// policy denies them), because only local processes can reach a relay that
// listens on 127.0.0.1; this is logged as a warning at startup.
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../shared/log.js';
import { RelayConfigSchema, type RelayConfig } from './schema.js';

const CERT_LIFETIME_DAYS = 30;

export interface DevSetup {
  config: RelayConfig;
  secret: string;
  dir: string;
  certPem: string;
  secretsFile: string;
  warnings: string[];
}

/** A self-signed ECDSA P-256 certificate for localhost and 127.0.0.1 (and ::1). */
export async function generateSelfSignedCert(
  opts: { commonName?: string; dnsNames?: string[]; ips?: string[]; days?: number } = {},
): Promise<{ certPem: string; keyPem: string }> {
  // Loaded on demand: a relay started from a config file never needs them.
  // @peculiar/x509 (through tsyringe) requires the reflect-metadata polyfill first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const dnsNames = opts.dnsNames ?? ['localhost'];
  const ips = opts.ips ?? ['127.0.0.1', '::1'];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'), // positive
    name: `CN=${opts.commonName ?? 'turnrelay dev'}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.days ?? CERT_LIFETIME_DAYS) * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certPem: cert.toString('pem'), keyPem };
}

/** `quiet` skips logging the warnings (they are returned either way). */
export async function createDevSetup(opts: { dir?: string; quiet?: boolean } = {}): Promise<DevSetup> {
  // mkdtemp creates the directory 0700: only this user can read the secret and key.
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'turnrelay-dev-')));
  const secret = randomBytes(32).toString('base64url');
  const { certPem, keyPem } = await generateSelfSignedCert();
  const secretsFile = join(dir, 'secrets');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(secretsFile, `${secret}\n`, { mode: 0o600 });
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(certFile, certPem, { mode: 0o644 });

  const config = RelayConfigSchema.parse({
    realm: 'turnrelay',
    listeners: [
      { protocol: 'udp', host: '127.0.0.1', port: 3478 },
      { protocol: 'tcp', host: '127.0.0.1', port: 3478 },
      { protocol: 'tls', host: '127.0.0.1', port: 5349 },
    ],
    tls: { certFile, keyFile },
    auth: { secretsFile },
    relay: { host: '127.0.0.1' },
    peers: { allowCIDRs: ['127.0.0.0/8', '::1/128'] },
    admin: { host: '127.0.0.1', port: 9641 },
  });
  const warnings = [
    'development mode: loopback peers (127.0.0.0/8, ::1) are allowed because the relay only listens on 127.0.0.1; ' +
      'use a config file (--config) for anything reachable from other machines',
  ];
  if (!opts.quiet) {
    const log = createLogger('dev-defaults');
    for (const w of warnings) log.warn({ dir }, w);
  }
  return { config, secret, dir, certPem, secretsFile, warnings };
}
