// What the images do, minus Docker: compile with the build tsconfig, `npm pack`
// the package, install the tarball with production dependencies only from the
// lockfile (`npm ci --omit=dev`, whose install step compiles the native data
// plane from the shipped sources), and run the CLI on Node 24 from there.
// Fails when runtime code imports a devDependency, when the tarball misses
// files, or when the CLI cannot start from a production install.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../../scripts/delivery/helm.js';

// npm and tsc run on the same Node 24 that runs this test.
const env = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env['PATH']}`,
  npm_config_update_notifier: 'false',
};
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });

let work: string;
let app: string;
let packed: string[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'turnrelay-pack-'));
  const stage = join(work, 'stage');
  app = join(work, 'app');
  mkdirSync(stage);
  mkdirSync(app);
  for (const entry of ['package.json', 'README.md', 'crds', 'relay/dataplane/native/src', 'scripts/build-native.sh']) {
    if (existsSync(join(REPO_ROOT, entry))) cpSync(join(REPO_ROOT, entry), join(stage, entry), { recursive: true });
  }
  // The image's `npm run build`, written to the staging copy so the shared dist/ is untouched.
  run(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(stage, 'dist')],
    REPO_ROOT,
  );
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], stage)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  packed = info!.files.map((f) => f.path);
  run('tar', ['-xzf', join(work, info!.filename), '-C', app, '--strip-components=1'], work);
  cpSync(join(REPO_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], app);
}, 10 * 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(app, 'dist/cli/turnrelay.js'), ...args], {
    cwd: app,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });

test('the tarball holds the compiled CLI and CRDs, not tests or TypeScript sources', () => {
  expect(packed).toEqual(
    expect.arrayContaining([
      'package.json',
      'dist/cli/turnrelay.js',
      'dist/cli/relay.js',
      'dist/cli/operator.js',
      'dist/cli/credentials.js',
    ]),
  );
  expect(packed.some((p) => p.startsWith('crds/'))).toBe(true);
  expect(packed.filter((p) => /\.test\.js$|(?<!\.d)\.ts$/.test(p))).toEqual([]);
});

test('the tarball ships the native data plane sources and build script, and installing it compiles the addon', () => {
  expect(packed).toEqual(
    expect.arrayContaining([
      'scripts/build-native.sh',
      'relay/dataplane/native/src/addon.cc',
      'relay/dataplane/native/src/worker.cc',
      'relay/dataplane/native/src/worker.h',
      'relay/dataplane/native/src/tables.h',
      'relay/dataplane/native/src/wire.h',
    ]),
  );
  const addon = join(app, 'build/native/turnrelay_dataplane.node');
  const result = spawnSync(process.execPath, ['-e', `console.log(typeof require(${JSON.stringify(addon)}).create)`], {
    cwd: app,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ status: result.status, stdout: result.stdout.trim() }).toEqual({ status: 0, stdout: 'function' });
});

test('the production install has no devDependencies', () => {
  const installed = readdirSync(join(app, 'node_modules'));
  expect(installed).toContain('zod');
  for (const dev of ['typescript', 'jest', 'ts-jest', 'tsx', 'playwright-core', 'node'])
    expect(installed).not.toContain(dev);
});

test('runs on Node 24', () => {
  expect(process.versions.node.split('.')[0]).toBe('24');
});

test('`turnrelay --help` prints the usage', () => {
  const result = cli('--help');
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/usage: turnrelay/);
});

test('`turnrelay relay --help` works from the production install', () => {
  const result = cli('relay', '--help');
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  expect(result.stdout).toMatch(/--config/);
});

test('every command module loads with production dependencies only', () => {
  const script = ['cli/relay.js', 'cli/operator.js', 'cli/credentials.js']
    .map((m) => `await import('./dist/${m}');`)
    .join(' ');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: app,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
});
