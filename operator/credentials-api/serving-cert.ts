// The credentials API's TLS key pair. Either files (a cert-manager
// Certificate or your own Secret, mounted; re-read when they change), or,
// by default, a self-signed certificate the operator creates once in a
// Secret of its own namespace, so every replica serves the same one, and
// whose certificate (public) it publishes in a ConfigMap for clients to trust.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { generateSelfSignedCert } from '../../relay/config/dev-defaults.js';
import { FIELD_MANAGER, MANAGED_BY_LABEL } from '../render/names.js';
import { CONTENT, KubeApiError, type KubeRest } from '../runtime/kube-rest.js';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

/** The chart's Service in front of the credentials API. */
export const DEFAULT_CREDENTIALS_SERVICE = 'turnrelay-operator-credentials';

/** The names a Service answers to inside the cluster, shortest first. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** Key in the CA ConfigMap holding the certificate clients should trust. */
export const CA_KEY = 'ca.crt';
const LIFETIME_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 86_400_000;

export async function readCertFiles(files: { certFile: string; keyFile: string }): Promise<ServingCert> {
  const [certPem, keyPem] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
  return { certPem, keyPem };
}

export interface BootstrapOptions {
  namespace: string;
  secretName: string;
  caConfigMapName: string;
  /** Names the certificate is valid for (the Service's DNS names). */
  dnsNames: string[];
  now?: () => number;
}

const secretPath = (ns: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

function usable(cert: ServingCert, dnsNames: string[], now: number): boolean {
  try {
    const x = new X509Certificate(cert.certPem);
    if (Date.parse(x.validTo) - now < RENEW_BEFORE_MS) return false;
    return dnsNames.every((n) => x.checkHost(n) !== undefined);
  } catch {
    return false;
  }
}

/** The shared self-signed serving certificate: created if absent or due for renewal, then published in the CA ConfigMap. */
export async function bootstrapServingCert(rest: KubeRest, opts: BootstrapOptions): Promise<ServingCert> {
  const now = opts.now ?? Date.now;
  const path = secretPath(opts.namespace, opts.secretName);
  let cert: ServingCert | undefined;
  for (let attempt = 0; attempt < 3 && !cert; attempt++) {
    const existing = await rest.find<{ data?: Record<string, string>; metadata?: { resourceVersion?: string } }>(path);
    const current = existing && {
      certPem: unb64(existing.data?.['tls.crt']),
      keyPem: unb64(existing.data?.['tls.key']),
    };
    if (current && usable(current, opts.dnsNames, now())) {
      cert = current;
      break;
    }
    const fresh = await generateSelfSignedCert({
      commonName: opts.dnsNames[0] ?? 'turnrelay-credentials',
      dnsNames: opts.dnsNames,
      ips: ['127.0.0.1', '::1'],
      days: LIFETIME_DAYS,
    });
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: opts.secretName,
        namespace: opts.namespace,
        labels: { [MANAGED_BY_LABEL]: FIELD_MANAGER },
        ...(existing ? { resourceVersion: existing.metadata?.resourceVersion } : {}),
      },
      data: { 'tls.crt': b64(fresh.certPem), 'tls.key': b64(fresh.keyPem) },
    };
    try {
      if (existing) await rest.request('PUT', path, { body });
      else await rest.request('POST', `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/secrets`, { body });
      cert = fresh;
    } catch (err) {
      // Another replica created or renewed it first: use theirs.
      if (!(err instanceof KubeApiError && err.code === 409)) throw err;
    }
  }
  if (!cert)
    throw new Error(`could not create or read the serving certificate Secret ${opts.namespace}/${opts.secretName}`);
  await rest.request(
    'PATCH',
    `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/configmaps/${encodeURIComponent(opts.caConfigMapName)}`,
    {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: opts.caConfigMapName,
          namespace: opts.namespace,
          labels: { [MANAGED_BY_LABEL]: FIELD_MANAGER },
        },
        data: { [CA_KEY]: cert.certPem },
      },
      contentType: CONTENT.apply,
      query: { fieldManager: 'turnrelay-operator', force: true },
    },
  );
  return cert;
}
