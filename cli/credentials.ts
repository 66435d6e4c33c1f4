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
  turnrelay credentials --namespace NS --name RELAY --user USER [--ttl 1h] [--kubeconfig FILE]

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
                       read the secret of TurnRelay NS/RELAY from the cluster instead
  --kubeconfig FILE    kubeconfig for --namespace (default: in-cluster or $KUBECONFIG)
`;

export const DEV_URLS = [
  'turn:127.0.0.1:3478?transport=udp',
  'turn:127.0.0.1:3478?transport=tcp',
  'turns:127.0.0.1:5349?transport=tcp',
];

class UsageError extends Error {}

export function parseUrls(values: string[]): string[] {
  const urls = values.flatMap((v) => v.split(',')).map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) {
    if (!/^(turns?|stuns?):[^\s]+$/.test(url)) {
      throw new UsageError(`invalid ICE server URL "${url}" (expected turn:HOST[:PORT][?transport=udp|tcp] or turns:...)`);
    }
  }
  return urls;
}

/** Builds the RTCConfiguration JSON from a secrets file's text. Pure apart from the clock. */
export function credentialsFromSecrets(
  secretsText: string,
  opts: { user: string; ttlSeconds: number; urls: string[]; now?: number },
): IceConfiguration {
  const [signing] = parseSecretsFile(secretsText);
  if (signing === undefined) throw new AuthFileError('secrets file has no secrets (only blank lines or comments)');
  return iceConfiguration(signing, opts);
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
      namespace: { type: 'string' },
      name: { type: 'string' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  if (!values.user) throw new UsageError('--user is required');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseDurationSeconds(values.ttl);
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as DurationError).message}`);
  }
  if (ttlSeconds < 1) throw new UsageError('--ttl must be at least 1s');
  const urls = values.urls ? parseUrls(values.urls) : undefined;

  if (values.namespace !== undefined || values.name !== undefined) {
    if (values['secrets-file'] !== undefined) throw new UsageError('use either --secrets-file or --namespace/--name, not both');
    if (!values.namespace || !values.name) throw new UsageError('--namespace and --name go together');
    // Loaded only here, so minting from a file never loads the Kubernetes client.
    let mod: typeof import('../operator/credentials.js');
    try {
      mod = await import('../operator/credentials.js');
    } catch (err) {
      throw new Error(`minting from the cluster is unavailable: ${(err as Error).message}`);
    }
    try {
      return await mod.mintFromCluster({
        namespace: values.namespace,
        name: values.name,
        user: values.user,
        ttlSeconds,
        ...(urls ? { urls } : {}),
        ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      });
    } catch (err) {
      throw new Error(`cannot mint for TurnRelay ${values.namespace}/${values.name}: ${(err as Error).message}`);
    }
  }

  const file = values['secrets-file'];
  if (!file) throw new UsageError('--secrets-file (or --namespace and --name) is required');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read secrets file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return credentialsFromSecrets(text, { user: values.user, ttlSeconds, urls: urls ?? DEV_URLS });
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
