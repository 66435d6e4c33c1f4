import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFromSecrets, DEV_URLS, run } from '../../../cli/credentials.js';
import { CredentialStore } from '../../../relay/auth/credential-store.js';
import { parseRestUsername, restPassword } from '../../../relay/auth/rest-credentials.js';
import { runCaptured } from './helpers/run-captured.js';

let dir: string;
let secretsFile: string;
const SECRET = 'newest-secret-value-0123456789';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-cli-'));
  secretsFile = join(dir, 'secrets');
  await writeFile(secretsFile, `# rotated\n${SECRET}\nolder-secret-value\n`, { mode: 0o600 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCaptured(run, argv);

test('prints RTCConfiguration JSON signed with the newest secret, which the relay accepts', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { code, stdout, stderr } = await cli(
    '--secrets-file',
    secretsFile,
    '--user',
    'alice',
    '--ttl',
    '30m',
    '--urls',
    'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349?transport=tcp',
  );
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const json = JSON.parse(stdout) as {
    iceServers: Array<{ urls: string[]; username: string; credential: string }>;
    expiresAt: string;
  };
  expect(Object.keys(json)).toEqual(['iceServers', 'expiresAt']);
  const [server] = json.iceServers;
  expect(server?.urls).toEqual([
    'turn:turn.example.com:3478?transport=udp',
    'turns:turn.example.com:5349?transport=tcp',
  ]);
  const parsed = parseRestUsername(server!.username);
  expect(parsed?.user).toBe('alice');
  expect(parsed!.expiry - before).toBeGreaterThanOrEqual(1800);
  expect(parsed!.expiry - before).toBeLessThanOrEqual(1801);
  expect(server?.credential).toBe(restPassword(SECRET, server!.username));
  expect(new Date(json.expiresAt).getTime()).toBe(parsed!.expiry * 1000);

  const store = new CredentialStore();
  store.setSecrets([SECRET, 'older-secret-value']);
  const lookup = store.lookup(server!.username, Date.now());
  expect(lookup.ok && lookup.passwords.includes(server!.credential)).toBe(true);
  expect(stdout).not.toContain(SECRET);
});

test('defaults: 1h and the local development relay URLs', () => {
  const now = Date.UTC(2026, 0, 1);
  const json = credentialsFromSecrets(`${SECRET}\n`, { user: 'bob', ttlSeconds: 3600, urls: DEV_URLS, now });
  expect(json.expiresAt).toBe('2026-01-01T01:00:00.000Z');
  expect(json.iceServers[0]?.urls).toEqual(DEV_URLS);
});

test.each([
  [['--user', 'a'], 2, /--secrets-file \(or --namespace and --name\) is required/],
  [['--secrets-file', 'x'], 2, /--user is required/],
  [['--secrets-file', 'x', '--user', 'a', '--ttl', 'forever'], 2, /--ttl: invalid duration "forever"/],
  [['--secrets-file', 'x', '--user', 'a', '--ttl', '10ms'], 2, /--ttl: .*shorter than one second/],
  [['--secrets-file', 'x', '--user', 'a', '--urls', 'http://x'], 2, /invalid ICE server URL "http:\/\/x"/],
  [['--secrets-file', 'x', '--user', 'a', '--bogus'], 2, /Unknown option '--bogus'/],
  [['--namespace', 'ns', '--user', 'a'], 2, /--namespace and --name go together/],
  [
    ['--namespace', 'ns', '--name', 'r', '--secrets-file', 'x', '--user', 'a'],
    2,
    /either --secrets-file or --namespace/,
  ],
  [
    ['--secrets-file', '/nonexistent/secrets', '--user', 'a'],
    1,
    /cannot read secrets file \/nonexistent\/secrets: ENOENT/,
  ],
])('%j exits %d with a clear error', async (argv, expectedCode, message) => {
  const { code, stdout, stderr } = await cli(...argv);
  expect(code).toBe(expectedCode);
  expect(stdout).toBe('');
  expect(stderr).toMatch(message);
});

test('an empty secrets file is an error that does not print anything secret', async () => {
  const empty = join(dir, 'empty');
  await writeFile(empty, '# nothing yet\n\n');
  const { code, stderr } = await cli('--secrets-file', empty, '--user', 'a');
  expect(code).toBe(1);
  expect(stderr).toMatch(/no secrets/);
});

test('--help prints usage', async () => {
  const { code, stdout } = await cli('--help');
  expect(code).toBe(0);
  expect(stdout).toMatch(/turnrelay credentials --secrets-file FILE --user USER/);
});

test('--namespace/--name reads through the Kubernetes API and reports failures clearly', async () => {
  // A kubeconfig pointing at a closed loopback port: the cluster path loads and fails cleanly.
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      '',
    ].join('\n'),
  );
  const { code, stdout, stderr } = await cli(
    '--namespace',
    'media',
    '--name',
    'edge',
    '--user',
    'a',
    '--kubeconfig',
    kubeconfig,
  );
  expect(stdout).toBe('');
  expect(code).toBe(1);
  expect(stderr).toMatch(/^turnrelay credentials: cannot mint for TurnRelay media\/edge: .*ECONNREFUSED/);
});
