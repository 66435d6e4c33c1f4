// `turnrelay check` with hostile or broken command-line input: each is refused
// before any network traffic with a clear error and a non-zero exit code (2
// for usage errors), prints no table and never echoes a secret.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../cli/check.js';
import { runCaptured } from './helpers/run-captured.js';

const SECRET = 'check-cli-secret-do-not-print';
let dir: string;
let commentsOnly: string;
let controlChars: string;
const URL = 'turn:127.0.0.1:9?transport=udp';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-check-cli-'));
  commentsOnly = join(dir, 'comments-only');
  controlChars = join(dir, 'control-chars');
  await writeFile(commentsOnly, '# nothing yet\n\n');
  await writeFile(controlChars, `${SECRET}\u0001\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test.each<[string, () => string[], number, RegExp]>([
  ['no URLs and no cluster', () => [], 2, /give --namespace\/--name or --urls/],
  ['an unknown flag', () => ['--urls', URL, '--bogus'], 2, /Unknown option '--bogus'/],
  ['a positional argument', () => ['--urls', URL, 'extra'], 2, /Unexpected argument 'extra'/],
  // A bad URL exits 1 here (2 in `turnrelay credentials`, which shares the parser).
  ['a URL that is not an ICE server', () => ['--urls', 'http://relay.example'], 1, /invalid ICE server URL/],
  ['a URL with whitespace inside', () => ['--urls', 'turn:a b'], 1, /invalid ICE server URL/],
  ['a timeout that is no duration', () => ['--urls', URL, '--timeout', '5 parsecs'], 2, /--timeout: invalid duration/],
  ['a timeout below a second', () => ['--urls', URL, '--timeout', '0s'], 2, /--timeout must be at least 1s/],
  [
    'a username without a password',
    () => ['--urls', URL, '--username', 'u'],
    2,
    /--username and --password go together/,
  ],
  ['--namespace without --name', () => ['--namespace', 'ns'], 2, /--namespace and --name go together/],
  [
    'cluster flags with --urls',
    () => ['--namespace', 'ns', '--name', 'r', '--urls', URL],
    2,
    /take the URLs and credentials from the cluster/,
  ],
  [
    'a secrets file that does not exist',
    () => ['--urls', URL, '--secrets-file', join(dir, 'missing')],
    1,
    /cannot read secrets file .*missing: ENOENT/,
  ],
  [
    'a secrets file that is a directory',
    () => ['--urls', URL, '--secrets-file', dir],
    1,
    /cannot read secrets file .*EISDIR/,
  ],
  ['a secrets file with only comments', () => ['--urls', URL, '--secrets-file', commentsOnly], 1, /no secrets/],
  [
    'a secret with control characters',
    () => ['--urls', URL, '--secrets-file', controlChars],
    1,
    /secrets file line 1: contains control characters/,
  ],
  ['a CA file that does not exist', () => ['--urls', URL, '--ca-file', join(dir, 'no-ca')], 1, /ENOENT/],
])('%s: refused with a clear error', async (_name, argv, expectedCode, message) => {
  const { code, stdout, stderr } = await runCaptured(run, argv());
  expect(code).toBe(expectedCode);
  expect(stdout).toBe('');
  expect(stderr).toMatch(message);
  expect(stderr).not.toContain(SECRET);
});
