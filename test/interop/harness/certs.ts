// A throwaway self-signed certificate for TLS listeners, made with the
// openssl CLI so the test does not depend on the code it is testing.
import { join } from 'node:path';
import { ChildSet } from './children.js';

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export async function makeSelfSignedCert(dir: string, ipAddress: string): Promise<CertFiles> {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const children = new ChildSet();
  const result = await children.run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=turnrelay-interop',
      '-addext',
      `subjectAltName=IP:${ipAddress}`,
    ],
    { timeoutMs: 20_000 },
  );
  if (result.code !== 0) throw new Error(`openssl could not make a test certificate:\n${result.stderr}`);
  return { certFile, keyFile };
}
