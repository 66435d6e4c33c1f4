// Throwaway self-signed certificates for TLS listeners and TLS Secrets, made
// with the openssl CLI so the tests do not depend on the code they test.
import { join } from 'node:path';
import { ChildSet } from './children.js';

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

/** Who the certificate is for: an IP address or DNS names (the first is also its CN). */
export type CertSubject = { ip: string } | { dnsNames: string[] };

/** `openssl` arguments for a self-signed P-256 certificate and unencrypted key, valid from now for `days`. */
export function selfSignedCertArgs(files: CertFiles, subject: CertSubject, days = 1): string[] {
  const [cn, san] =
    'ip' in subject
      ? ['turnrelay-interop', `IP:${subject.ip}`]
      : [subject.dnsNames[0]!, subject.dnsNames.map((n) => `DNS:${n}`).join(',')];
  return [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    files.keyFile,
    '-out',
    files.certFile,
    '-days',
    String(days),
    '-subj',
    `/CN=${cn}`,
    '-addext',
    `subjectAltName=${san}`,
  ];
}

/** tls.crt and tls.key in `dir`. */
export async function makeSelfSignedCert(dir: string, subject: CertSubject): Promise<CertFiles> {
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  const result = await new ChildSet().run('openssl', selfSignedCertArgs(files, subject), { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`openssl could not make a test certificate:\n${result.stderr}`);
  return files;
}
