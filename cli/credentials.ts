// `turnrelay credentials`: mints a TURN REST ephemeral credential and prints
// it as JSON that drops straight into `new RTCPeerConnection(...)`. With
// --secrets-file the secret is read locally; with --namespace/--name it is
// read from the relay's auth Secret through the Kubernetes API (that code
// lives with the operator and is loaded only when asked for).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AuthFileError, parseSecretsFile } from '../shared/auth-files.js';
import { iceConfiguration, type IceConfiguration } from '../relay/auth/rest-credentials.js';
import { DurationError, parseDurationSeconds } from '../shared/duration.js';

const USAGE = `usage:
  turnrelay credentials --secrets-file FILE --user USER [--ttl 1h] [--urls URL,URL...]
  turnrelay credentials --namespace NS --name RELAY [--user USER] [--ttl 1h] [--kubeconfig FILE]
                        [--token-file FILE] [--credentials-url URL] [--credentials-ca-file FILE]

Mints a short-lived TURN credential (TURN REST API: username "<expiry>:<user>",
password = base64 HMAC-SHA1 of the username under the signing (first) shared secret)
and prints RTCConfiguration JSON: {"iceServers":[{urls,username,credential}],"expiresAt"}.

  --secrets-file FILE  shared secrets, one per line, signing secret first (the relay's auth.secretsFile)
  --user USER          who the credential is for (counts against the per-user allocation quota)
  --ttl DURATION       lifetime, Go-style: 30m, 1h, 24h (default 1h)
  --urls LIST          comma-separated ICE server URLs (repeatable); default: with
                       --secrets-file the local development relay (turn:127.0.0.1:3478
                       udp+tcp, turns:127.0.0.1:5349), with --namespace the URLs in the
                       TurnRelay's status
  --namespace NS --name RELAY
                       credentials for TurnRelay NS/RELAY: from the operator's credentials API
                       when a token for it is available and the API is reachable (TTL capped
                       by the relay's credentialTTL), else minted from the relay's auth Secret
                       read with your kubeconfig (needs get on that Secret)
  --token-file FILE    ServiceAccount token for audience turnrelay.dev/credentials
                       (default: /var/run/secrets/turnrelay.dev/credentials/token when mounted)
  --credentials-url URL
                       the credentials API (default https://turnrelay-operator-credentials.turnrelay-system.svc:8443);
                       given explicitly, there is no fallback to the Secret
  --credentials-ca-file FILE
                       CA for the API's certificate (default: the operator's published CA ConfigMap)
  --kubeconfig FILE    kubeconfig for --namespace (default: in-cluster or $KUBECONFIG)
`;

export const DEV_URLS = [
  'turn:127.0.0.1:3478?transport=udp',
  'turn:127.0.0.1:3478?transport=tcp',
  'turns:127.0.0.1:5349?transport=tcp',
];

class UsageError extends Error {}

export function parseUrls(values: string[]): string[] {
  const urls = values
    .flatMap((v) => v.split(','))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of urls) {
    if (!/^(turns?|stuns?):[^\s]+$/.test(url)) {
      throw new UsageError(
        `invalid ICE server URL "${url}" (expected turn:HOST[:PORT][?transport=udp|tcp] or turns:...)`,
      );
    }
  }
  return urls;
}

/** The --namespace/--name flags `credentials` and `check` share. */
export const CLUSTER_OPTIONS = {
  namespace: { type: 'string' },
  name: { type: 'string' },
  kubeconfig: { type: 'string' },
  'token-file': { type: 'string' },
  'credentials-url': { type: 'string' },
  'credentials-ca-file': { type: 'string' },
} as const;

/** The signing (first) secret of a secrets file's text; errors never contain a secret. */
export function signingSecret(secretsText: string): string {
  const [signing] = parseSecretsFile(secretsText);
  if (signing === undefined) throw new AuthFileError('secrets file has no secrets (only blank lines or comments)');
  return signing;
}

/** Reads a secrets file given on the command line; a read failure names the file and the error code. */
export async function readSecretsFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read secrets file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/** Builds the RTCConfiguration JSON from a secrets file's text. Pure apart from the clock. */
export function credentialsFromSecrets(
  secretsText: string,
  opts: { user: string; ttlSeconds: number; urls: string[]; now?: number },
): IceConfiguration {
  return iceConfiguration(signingSecret(secretsText), opts);
}

async function mint(argv: string[]): Promise<unknown> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'secrets-file': { type: 'string' },
      user: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      urls: { type: 'string', multiple: true },
      ...CLUSTER_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const cluster = values.namespace !== undefined || values.name !== undefined;
  // From the cluster the user defaults to the caller's identity (API) or stays empty (Secret).
  if (!values.user && !cluster) throw new UsageError('--user is required');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseDurationSeconds(values.ttl);
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as DurationError).message}`);
  }
  if (ttlSeconds < 1) throw new UsageError('--ttl must be at least 1s');
  const urls = values.urls ? parseUrls(values.urls) : undefined;

  if (values.namespace !== undefined || values.name !== undefined) {
    if (values['secrets-file'] !== undefined)
      throw new UsageError('use either --secrets-file or --namespace/--name, not both');
    if (!values.namespace || !values.name) throw new UsageError('--namespace and --name go together');
    try {
      return (
        await credentialsFromCluster(values.namespace, values.name, {
          ...values,
          ttlSeconds,
          ...(urls ? { urls } : {}),
        })
      ).config;
    } catch (err) {
      throw new Error(`cannot mint for TurnRelay ${values.namespace}/${values.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  const file = values['secrets-file'];
  if (!file) throw new UsageError('--secrets-file (or --namespace and --name) is required');
  return credentialsFromSecrets(await readSecretsFile(file), {
    user: values.user!,
    ttlSeconds,
    urls: urls ?? DEV_URLS,
  });
}

/** The flags `credentials` and `check` share for --namespace/--name. */
export interface ClusterFlags {
  user?: string | undefined;
  ttlSeconds: number;
  kubeconfig?: string | undefined;
  'token-file'?: string | undefined;
  'credentials-url'?: string | undefined;
  'credentials-ca-file'?: string | undefined;
  urls?: string[];
}

/** Credentials for TurnRelay namespace/name through the API or the Secret (the Kubernetes client is loaded only here). */
export async function credentialsFromCluster(namespace: string, name: string, flags: ClusterFlags) {
  let mod: typeof import('../operator/credentials-api/cluster-credentials.js');
  try {
    mod = await import('../operator/credentials-api/cluster-credentials.js');
  } catch (err) {
    throw new Error(`getting credentials from the cluster is unavailable: ${(err as Error).message}`, { cause: err });
  }
  return mod.clusterCredentials({
    namespace,
    name,
    ttlSeconds: flags.ttlSeconds,
    ...(flags.user ? { user: flags.user } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags['token-file'] ? { tokenFile: flags['token-file'] } : {}),
    ...(flags['credentials-url'] ? { apiUrl: flags['credentials-url'] } : {}),
    ...(flags['credentials-ca-file'] ? { apiCaFile: flags['credentials-ca-file'] } : {}),
    ...(flags.urls?.length ? { urls: flags.urls } : {}),
    note: (message) => process.stderr.write(`turnrelay: ${message}\n`),
  });
}

export async function run(argv: string[]): Promise<number> {
  let result: unknown;
  try {
    result = await mint(argv);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`turnrelay credentials: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  }
  if (result === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
