// Throwaway key pairs made with the openssl CLI (not with the code under test),
// for the TLS Secret checks in unit and API-server tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertArgs } from '../../../interop/harness/certs.js';

export interface KeyPair {
  cert: string;
  key: string;
}

/** A self-signed EC certificate for `dnsNames`, valid from now for `days`. */
export function selfSigned(dnsNames: string[], days = 30): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'turnrelay-tls-'));
  try {
    const keyFile = join(dir, 'tls.key');
    const certFile = join(dir, 'tls.crt');
    execFileSync('openssl', selfSignedCertArgs({ certFile, keyFile }, { dnsNames }, days), { stdio: 'pipe' });
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function tlsSecretData(pair: KeyPair): Record<string, string> {
  return { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') };
}
