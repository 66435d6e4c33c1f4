import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAuthFiles } from '../../../relay/auth/load-auth-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-auth-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('reads both files', async () => {
  await writeFile(join(dir, 'secrets'), 'new\nold\n');
  await writeFile(join(dir, 'users'), 'alice:pw\n');
  expect(await readAuthFiles({ secretsFile: join(dir, 'secrets'), usersFile: join(dir, 'users') })).toEqual({
    secrets: ['new', 'old'],
    users: new Map([['alice', 'pw']]),
  });
});

test('a missing users file means no static users (the Secret has no "users" key)', async () => {
  await writeFile(join(dir, 'secrets'), 'k\n');
  expect(await readAuthFiles({ secretsFile: join(dir, 'secrets'), usersFile: join(dir, 'absent') })).toEqual({
    secrets: ['k'],
    users: new Map(),
  });
});

test('a missing secrets file is an error naming it', async () => {
  await expect(readAuthFiles({ secretsFile: join(dir, 'nope') })).rejects.toThrow(
    `cannot read ${join(dir, 'nope')} (ENOENT)`,
  );
});

test('parse errors name the file and line', async () => {
  await writeFile(join(dir, 'badusers'), 'alice\n');
  await expect(readAuthFiles({ usersFile: join(dir, 'badusers') })).rejects.toThrow(
    `${join(dir, 'badusers')}: users file line 1: expected "name:password"`,
  );
});

test('files that allow nobody in are refused', async () => {
  await writeFile(join(dir, 'empty'), '# none\n');
  await expect(readAuthFiles({ secretsFile: join(dir, 'empty'), usersFile: join(dir, 'absent') })).rejects.toThrow(
    /^no credentials: .*hold no shared secret and no user$/,
  );
  await expect(readAuthFiles({})).rejects.toThrow('no credentials: no auth file is configured');
});
