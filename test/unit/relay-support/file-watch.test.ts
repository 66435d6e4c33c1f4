// Exercises the watcher with the real file operations it must survive:
// Kubernetes' atomic ..data symlink swap, editor rename-replace, delete and
// re-create, and bursts of writes.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFiles } from '../../../relay/config/file-watch.js';

const DEBOUNCE = 50;

const created: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-watch-'));
  created.push(dir);
  return dir;
}
afterAll(() => Promise.all(created.map((d) => rm(d, { recursive: true, force: true }))));

/** Collects change events; `next()` waits for the next one (or fails after a timeout). */
function recorder() {
  const events: string[] = [];
  let wake: (() => void) | undefined;
  return {
    events,
    onChange: (path: string) => {
      events.push(path);
      wake?.();
    },
    async waitFor(count: number, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline)
          throw new Error(`expected ${count} change events, got ${events.length}: ${events.join(', ')}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, DEBOUNCE * 6));

test('survives the Kubernetes ..data symlink swap', async () => {
  const mount = await tempDir();
  // Layout kubelet creates: ..<timestamp>/secrets, ..data -> ..<timestamp>, secrets -> ..data/secrets
  await mkdir(join(mount, '..2026_01_01_00_00_00.1'));
  await writeFile(join(mount, '..2026_01_01_00_00_00.1', 'secrets'), 'one\n');
  await symlink('..2026_01_01_00_00_00.1', join(mount, '..data'));
  await symlink('..data/secrets', join(mount, 'secrets'));
  const rec = recorder();
  const watcher = watchFiles([join(mount, 'secrets')], rec.onChange, { debounceMs: DEBOUNCE });
  try {
    for (const [i, content] of ['two\n', 'three\n'].entries()) {
      const next = `..2026_01_01_00_00_0${i + 1}.${i + 2}`;
      await mkdir(join(mount, next));
      await writeFile(join(mount, next, 'secrets'), content);
      await symlink(next, join(mount, '..data_tmp'));
      await rename(join(mount, '..data_tmp'), join(mount, '..data')); // the atomic swap
      await rm(join(mount, i === 0 ? '..2026_01_01_00_00_00.1' : '..2026_01_01_00_00_01.2'), { recursive: true });
      await rec.waitFor(i + 1);
    }
    await settle();
    expect(rec.events).toEqual([join(mount, 'secrets'), join(mount, 'secrets')]);
  } finally {
    watcher.close();
  }
});

test('editor rename-replace, delete then re-create, and only real content changes count', async () => {
  const dir = await tempDir();
  const file = join(dir, 'relay.yaml');
  const other = join(dir, 'users');
  await writeFile(file, 'a');
  await writeFile(other, 'u:p');
  const rec = recorder();
  const watcher = watchFiles([file, other], rec.onChange, { debounceMs: DEBOUNCE });
  try {
    await writeFile(join(dir, '.relay.yaml.swp'), 'b');
    await rename(join(dir, '.relay.yaml.swp'), file);
    await rec.waitFor(1);
    expect(rec.events).toEqual([file]);

    await writeFile(file, 'b'); // same content again: no event
    await writeFile(join(dir, 'unrelated'), 'x'); // other files in the directory: no event
    await settle();
    expect(rec.events).toHaveLength(1);

    await rm(file);
    await settle();
    expect(rec.events).toHaveLength(1); // deletion alone is not a config to load
    await writeFile(file, 'c');
    await rec.waitFor(2);
    expect(rec.events).toEqual([file, file]);

    await writeFile(other, 'u:q');
    await rec.waitFor(3);
    expect(rec.events[2]).toBe(other);
  } finally {
    watcher.close();
  }
});

test('a burst of writes is debounced into one event', async () => {
  const dir = await tempDir();
  const file = join(dir, 'secrets');
  await writeFile(file, '0');
  const rec = recorder();
  const watcher = watchFiles([file], rec.onChange, { debounceMs: 400 });
  try {
    for (let i = 1; i <= 10; i++) writeFileSync(file, String(i)); // well inside one debounce period
    await rec.waitFor(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rec.events).toEqual([file]);
  } finally {
    watcher.close();
  }
});

test('a throwing handler does not stop the watcher', async () => {
  const dir = await tempDir();
  const file = join(dir, 'f');
  await writeFile(file, '0');
  let calls = 0;
  const watcher = watchFiles(
    [file],
    () => {
      calls++;
      throw new Error('handler bug');
    },
    { debounceMs: DEBOUNCE },
  );
  try {
    await writeFile(file, '1');
    await settle();
    await writeFile(file, '2');
    const deadline = Date.now() + 5000;
    while (calls < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(2);
  } finally {
    watcher.close();
  }
});

test('a file whose directory appears later is picked up by the poll', async () => {
  const base = await tempDir();
  const file = join(base, 'later', 'tls.crt');
  const rec = recorder();
  const watcher = watchFiles([file], rec.onChange, { debounceMs: DEBOUNCE, pollMs: 100 });
  try {
    await mkdir(join(base, 'later'));
    await writeFile(file, 'cert');
    await rec.waitFor(1);
    await writeFile(file, 'cert2'); // and now the directory watcher is armed too
    await rec.waitFor(2);
    expect(rec.events).toEqual([file, file]);
  } finally {
    watcher.close();
  }
});

test('close() stops events', async () => {
  const dir = await tempDir();
  const file = join(dir, 'f');
  await writeFile(file, '0');
  const rec = recorder();
  const watcher = watchFiles([file], rec.onChange, { debounceMs: DEBOUNCE, pollMs: 50 });
  watcher.close();
  await writeFile(file, '1');
  await settle();
  expect(rec.events).toEqual([]);
});
