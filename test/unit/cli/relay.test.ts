// The `turnrelay relay` command as a process: prints the "relay started"
// JSON line with the real ports, serves, drains on SIGTERM and exits 0;
// refuses an invalid config with an error naming the field.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isSuccess, Method, TurnTestClient } from '../relay/helpers/turn-test-client.js';

const ROOT = join(import.meta.dirname, '../../..');

function runCli(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/turnrelay.ts'), 'relay', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exitCode = (p: ReturnType<typeof runCli>) => new Promise<number | null>((r) => p.on('exit', (code) => r(code)));

describe('turnrelay relay (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnrelay-cli-'));
    await writeFile(join(dir, 'secrets'), 'cli-secret\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('starts from a config file, reports its ports (even at log level warn), drains on SIGTERM and exits 0', async () => {
    const config = join(dir, 'relay.yaml');
    await writeFile(
      config,
      [
        'listeners:',
        '  - {protocol: udp, host: 127.0.0.1, port: 0}',
        '  - {protocol: tcp, host: 127.0.0.1, port: 0}',
        `auth: {secretsFile: ${join(dir, 'secrets')}}`,
        'relay: {host: 127.0.0.1}',
        'admin: {host: 127.0.0.1, port: 0}',
        'log: {level: warn}',
      ].join('\n'),
    );
    const p = runCli(['--config', config]);
    const exited = exitCode(p);
    type Started = { msg: string; listeners: Array<{ protocol: string; port: number }>; admin: { port: number } };
    const started = await new Promise<Started>((resolve, reject) => {
      const rl = createInterface({ input: p.stdout });
      rl.on('line', (line) => {
        try {
          const rec = JSON.parse(line) as Started;
          if (rec.msg === 'relay started') resolve(rec);
        } catch {
          /* not JSON */
        }
      });
      p.on('exit', () => reject(new Error('exited before starting')));
    });
    const udpPort = started.listeners.find((l) => l.protocol === 'udp')!.port;
    expect(udpPort).toBeGreaterThan(0);
    const c = await TurnTestClient.udp(udpPort);
    expect(isSuccess(await c.transact(c.build(Method.Binding, [])))).toBe(true);
    c.close();
    expect((await fetch(`http://127.0.0.1:${started.admin.port}/readyz`)).status).toBe(200);
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  test('an invalid config is refused with the field named, exit code non-zero', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'listeners: []\nlimits: {maxAllocations: -5}\n');
    const p = runCli(['--config', config]);
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += String(d);
    });
    expect(await exitCode(p)).not.toBe(0);
    expect(stderr).toContain('limits.maxAllocations');
    expect(stderr).toContain('listeners');
  }, 30_000);

  test('--help prints usage', async () => {
    const p = runCli(['--help']);
    let out = '';
    p.stdout.on('data', (d) => {
      out += String(d);
    });
    expect(await exitCode(p)).toBe(0);
    expect(out).toContain('--config FILE');
  }, 30_000);
});
