// What a referenced Secret is worth, decided from its content alone: a TLS
// Secret must be a kubernetes.io/tls pair whose certificate parses, matches
// its key, is valid now and covers the relay's DNS names; an auth Secret must
// hold shared secrets the relay will accept. Each finding names the TurnRelay
// field that points at the Secret. Pure: the reconcile passes the object in.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { AuthFileError, parseSecretsFile, parseUsersFile } from '../../shared/auth-files.js';

export type SecretCheck =
  { ok: true; message: string; notAfter?: string } | { ok: false; reason: string; message: string };

function decoded(secret: V1Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

export interface TlsCheckInput {
  /** The TurnRelay field naming the Secret, e.g. spec.tls.secretName. */
  field: string;
  dnsNames: readonly string[];
  now: Date;
}

export function checkTlsSecret(secret: V1Secret, { field, dnsNames, now }: TlsCheckInput): SecretCheck {
  const name = secret.metadata?.name ?? '?';
  const bad = (reason: string, what: string): SecretCheck => ({
    ok: false,
    reason,
    message: `${field}: Secret ${name} ${what}`,
  });
  if (secret.type !== 'kubernetes.io/tls')
    return bad('SecretWrongType', `has type ${secret.type ?? 'Opaque'}; it must be kubernetes.io/tls`);
  const certPem = decoded(secret, 'tls.crt');
  const keyPem = decoded(secret, 'tls.key');
  if (!certPem?.trim()) return bad('SecretIncomplete', 'has no tls.crt');
  if (!keyPem?.trim()) return bad('SecretIncomplete', 'has no tls.key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return bad('CertificateInvalid', 'has a tls.crt that is not a PEM certificate');
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return bad('KeyInvalid', 'has a tls.key that is not a PEM private key');
  }
  if (!matches) return bad('KeyMismatch', 'has a tls.key that does not belong to its tls.crt');
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now < notBefore)
    return bad('CertificateNotYetValid', `holds a certificate valid only from ${notBefore.toISOString()}`);
  if (now >= notAfter)
    return bad('CertificateExpired', `holds a certificate that expired at ${notAfter.toISOString()}`);
  const uncovered = dnsNames.filter((n) => cert.checkHost(n.startsWith('*.') ? `x${n.slice(1)}` : n) === undefined);
  if (uncovered.length > 0) {
    return bad(
      'CertificateNameMismatch',
      `holds a certificate for ${cert.subjectAltName ?? cert.subject}, which does not cover ${uncovered.join(', ')} (spec.tls.dnsNames)`,
    );
  }
  return {
    ok: true,
    message: `certificate in Secret ${name} valid until ${notAfter.toISOString()}`,
    notAfter: notAfter.toISOString(),
  };
}

/** A Secret the relay mounts as its auth files: at least one usable shared secret, and a parseable users file if any. */
export function checkAuthSecret(secret: V1Secret, field: string): SecretCheck {
  const name = secret.metadata?.name ?? '?';
  const bad = (what: string): SecretCheck => ({
    ok: false,
    reason: 'AuthSecretInvalid',
    message: `${field}: Secret ${name} ${what}`,
  });
  const secrets = decoded(secret, 'secrets');
  if (secrets === undefined) return bad('has no "secrets" key');
  try {
    if (parseSecretsFile(secrets).length === 0) return bad('has no shared secret in its "secrets" key');
    const users = decoded(secret, 'users');
    if (users !== undefined) parseUsersFile(users);
  } catch (err) {
    if (err instanceof AuthFileError) return bad(`is not usable: ${err.message}`);
    throw err;
  }
  return { ok: true, message: `Secret ${name} holds usable shared secrets` };
}
