// `turnrelay check`: does this TURN URL actually work from here? Tries every
// ICE server URL of a TurnRelay (credentials from the credentials API, else
// its auth Secret) or of --urls the way a browser would and prints a table;
// exits 1 when any URL fails, naming the reason.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { mintRestCredential } from '../relay/auth/rest-credentials.js';
import { checkIceServers, formatCheckTable, type CheckCredentials } from '../relay/client/ice-check.js';
import { DurationError, parseDurationSeconds } from '../shared/duration.js';
import { CLUSTER_OPTIONS, credentialsFromCluster, parseUrls, readSecretsFile, signingSecret } from './credentials.js';

const USAGE = `usage:
  turnrelay check --namespace NS --name RELAY [--user USER] [--kubeconfig FILE]
                  [--token-file FILE] [--credentials-url URL] [--credentials-ca-file FILE]
  turnrelay check --urls URL,URL... (--username NAME --password PASS | --secrets-file FILE [--user USER])

Tries each ICE server URL as a browser would: for turn:/turns:, an allocation over
that transport, a second allocation on the same relay, permissions between them and
a relayed round trip; for stun:, a Binding. Prints URL, transport, result, relayed
address and round-trip time; exits 1 if any URL fails, with the reason (DNS, connect,
TLS name mismatch, TLS certificate, 401, 403, peer refused, timeout).

  --namespace NS --name RELAY   the TurnRelay's status URLs, with credentials from the
                                credentials API (or its auth Secret; see turnrelay credentials)
  --urls LIST                   comma-separated ICE server URLs (repeatable)
  --username NAME --password P  credentials to allocate with
  --secrets-file FILE           mint a short-lived REST credential from these shared secrets
  --user USER                   user in the minted credential (default: turnrelay-check)
  --ca-file FILE                CA certificates trusted for turns: (default: the system store)
  --timeout DURATION            per step (default 5s)
`;

class UsageError extends Error {}

async function credentialsFrom(
  values: Record<string, string | string[] | boolean | undefined>,
): Promise<{ urls: string[]; creds?: CheckCredentials }> {
  const str = (k: string) => values[k] as string | undefined;
  if (str('namespace') !== undefined || str('name') !== undefined) {
    if (!str('namespace') || !str('name')) throw new UsageError('--namespace and --name go together');
    if (values.urls || str('username') || str('secrets-file'))
      throw new UsageError(
        '--namespace/--name take the URLs and credentials from the cluster; drop --urls/--username/--secrets-file',
      );
    const { config } = await credentialsFromCluster(str('namespace')!, str('name')!, {
      user: str('user') ?? 'turnrelay-check',
      ttlSeconds: 600,
      kubeconfig: str('kubeconfig'),
      'token-file': str('token-file'),
      'credentials-url': str('credentials-url'),
      'credentials-ca-file': str('credentials-ca-file'),
    });
    const server = config.iceServers[0];
    if (!server) throw new Error('the cluster returned no ICE servers');
    return { urls: server.urls, creds: { username: server.username, credential: server.credential } };
  }
  if (!values.urls) throw new UsageError('give --namespace/--name or --urls');
  const urls = parseUrls(values.urls as string[]);
  if (str('username') !== undefined || str('password') !== undefined) {
    if (!str('username') || !str('password')) throw new UsageError('--username and --password go together');
    return { urls, creds: { username: str('username')!, credential: str('password')! } };
  }
  if (str('secrets-file')) {
    const signing = signingSecret(await readSecretsFile(str('secrets-file')!));
    const minted = mintRestCredential(signing, { user: str('user') ?? 'turnrelay-check', ttlSeconds: 600 });
    return { urls, creds: { username: minted.username, credential: minted.password } };
  }
  return { urls }; // stun: URLs need no credentials; turn: ones will say so
}

export async function run(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...CLUSTER_OPTIONS,
        urls: { type: 'string', multiple: true },
        username: { type: 'string' },
        password: { type: 'string' },
        'secrets-file': { type: 'string' },
        user: { type: 'string' },
        'ca-file': { type: 'string' },
        timeout: { type: 'string', default: '5s' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    let timeoutMs: number;
    try {
      timeoutMs = parseDurationSeconds(values.timeout) * 1000;
    } catch (err) {
      throw new UsageError(`--timeout: ${(err as DurationError).message}`);
    }
    if (timeoutMs < 1000) throw new UsageError('--timeout must be at least 1s');
    const ca = values['ca-file'] ? await readFile(values['ca-file'], 'utf8') : undefined;
    const { urls, creds } = await credentialsFrom(values);
    const results = await checkIceServers(urls, creds, { timeoutMs, ...(ca ? { ca } : {}) });
    process.stdout.write(formatCheckTable(results));
    const failed = results.filter((r) => r.reason !== 'ok');
    for (const r of failed) process.stderr.write(`turnrelay check: ${r.url}: ${r.reason}: ${r.detail}\n`);
    return failed.length > 0 ? 1 : 0;
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`turnrelay check: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ''}`);
    return usage ? 2 : 1;
  }
}
