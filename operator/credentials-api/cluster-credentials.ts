// Credentials for a TurnRelay as the CLI gets them: from the credentials API
// with a ServiceAccount token for its audience when one is available and the
// API is reachable, else (or when asked) by reading the auth Secret with the
// kubeconfig's own identity.
import { readFile } from 'node:fs/promises';
import type { IceConfiguration } from '../../relay/auth/rest-credentials.js';
import { mintFromCluster } from '../credentials.js';
import { KubeRest, loadKubeConfig } from '../runtime/kube-rest.js';
import { CredentialsApiError, DEFAULT_API_URL, readApiToken, requestCredentials } from './client.js';
import { CA_KEY } from './serving-cert.js';

export interface ClusterCredentialsOptions {
  namespace: string;
  name: string;
  user?: string;
  ttlSeconds: number;
  kubeconfig?: string;
  /** Credentials API base URL; explicit means no fallback when it is unreachable. */
  apiUrl?: string;
  /** Token for audience turnrelay.dev/credentials (default: the conventional projected path, if mounted). */
  tokenFile?: string;
  /** CA the API's certificate must chain to (default: the published CA ConfigMap, else the system store). */
  apiCaFile?: string;
  /** Override the status' ICE server URLs (Secret path only; the API always answers with the status URLs). */
  urls?: string[];
  /** Told why the Secret path was taken. */
  note?: (message: string) => void;
}

export interface ClusterCredentials {
  config: IceConfiguration;
  via: 'api' | 'secret';
}

/** The CA ConfigMap the operator publishes next to a `https://<service>.<namespace>.svc[:port]` API. */
async function publishedCa(url: string, kubeconfig: string | undefined): Promise<string | undefined> {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(new URL(url).hostname);
  if (!m) return undefined;
  const rest = await KubeRest.fromKubeConfig(loadKubeConfig(kubeconfig));
  try {
    const cm = await rest.find<{ data?: Record<string, string> }>(`/api/v1/namespaces/${m[2]}/configmaps/${m[1]}-ca`);
    return cm?.data?.[CA_KEY];
  } catch {
    return undefined; // not allowed or not there: the system store decides
  } finally {
    rest.close();
  }
}

export async function clusterCredentials(opts: ClusterCredentialsOptions): Promise<ClusterCredentials> {
  const note = opts.note ?? (() => undefined);
  const secretPath = async (): Promise<ClusterCredentials> => ({
    via: 'secret',
    config: await mintFromCluster({
      namespace: opts.namespace,
      name: opts.name,
      ttlSeconds: opts.ttlSeconds,
      ...(opts.user ? { user: opts.user } : {}),
      ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
      ...(opts.urls ? { urls: opts.urls } : {}),
    }),
  });
  const token = await readApiToken(opts.tokenFile);
  if (!token || opts.urls?.length) {
    if (opts.apiUrl)
      throw new Error(
        opts.urls?.length
          ? '--urls cannot be combined with the credentials API'
          : 'no token for the credentials API (pass --token-file)',
      );
    return secretPath();
  }
  const url = opts.apiUrl ?? DEFAULT_API_URL;
  const ca = opts.apiCaFile ? await readFile(opts.apiCaFile, 'utf8') : await publishedCa(url, opts.kubeconfig);
  try {
    const config = await requestCredentials(
      { url, token, ...(ca ? { ca } : {}) },
      { namespace: opts.namespace, name: opts.name },
      {
        ...(opts.user ? { user: opts.user } : {}),
        ttlSeconds: opts.ttlSeconds,
      },
    );
    return { via: 'api', config };
  } catch (err) {
    if (err instanceof CredentialsApiError && err.unreachable && !opts.apiUrl) {
      note(`credentials API not reachable (${err.message}); reading the auth Secret instead`);
      return secretPath();
    }
    throw err;
  }
}
