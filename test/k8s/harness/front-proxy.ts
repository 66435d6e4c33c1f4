// The API server's aggregation layer (front proxy): a CA that extension API
// servers such as metrics-server trust for the request headers that carry the
// caller's identity, and the client certificate the API server presents when it
// proxies a request to them. Made fresh per control plane with the openssl CLI.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The CN the API server's proxy client certificate carries (--requestheader-allowed-names). */
export const FRONT_PROXY_CLIENT_NAME = 'front-proxy-client';

export interface FrontProxyFiles {
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function writeFrontProxyCerts(dir: string): Promise<FrontProxyFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'front-proxy-ca.key');
  const files: FrontProxyFiles = {
    caFile: join(dir, 'front-proxy-ca.crt'),
    clientCertFile: join(dir, 'front-proxy-client.crt'),
    clientKeyFile: join(dir, 'front-proxy-client.key'),
  };
  const openssl = (args: string[]) => run('openssl', args, { timeout: 20_000 });
  await openssl([
    ...['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', files.caFile, '-days', '2'],
    ...['-subj', '/CN=turnrelay-test-front-proxy-ca'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
  ]);
  // OpenSSL 3's `req -x509 -CA` issues the leaf from that CA in one step.
  await openssl([
    ...['req', '-x509', ...EC_KEY, '-keyout', files.clientKeyFile, '-out', files.clientCertFile, '-days', '1'],
    ...['-CA', files.caFile, '-CAkey', caKey, '-subj', `/CN=${FRONT_PROXY_CLIENT_NAME}`],
    ...['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=clientAuth'],
  ]);
  return files;
}

/** kube-apiserver flags that turn the aggregation layer on with these files. */
export function frontProxyFlags(files: FrontProxyFiles): string[] {
  return [
    `--requestheader-client-ca-file=${files.caFile}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_NAME}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${files.clientCertFile}`,
    `--proxy-client-key-file=${files.clientKeyFile}`,
  ];
}
