// `turnrelay operator` as a process: JSON logs, /healthz, /readyz and
// /metrics on its admin port, leader election, and on SIGTERM a clean exit
// that releases the Lease.
import { request as httpsRequest } from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { testKubeconfigPath } from './harness/cluster.js';
import {
  ROOT,
  applyRelay,
  liveChildren,
  relayObject,
  waitFor,
  rest,
  ns,
  useNamespacePerFile,
} from './operator-fixtures.js';

let child: ChildProcess | undefined;

useNamespacePerFile('op-cli', {
  tearDown: () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  },
});

test('runs, serves health and metrics, reconciles, and exits 0 on SIGTERM after releasing its lease', async () => {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/turnrelay.ts',
      'operator',
      '--kubeconfig',
      testKubeconfigPath(),
      '--namespace',
      ns,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      '--leader-elect',
      '--lease-namespace',
      ns,
      '--credentials-port',
      '0',
      '--credentials-host',
      '127.0.0.1',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'cli-test-pod' } },
  );
  child = proc;
  const logs: Array<Record<string, unknown>> = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ unparsed: line });
    }
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  const started = await waitFor(
    '"operator started" log line',
    () => logs.find((l) => l['msg'] === 'operator started'),
    60_000,
  );
  expect(started).toMatchObject({ level: 'info', identity: 'cli-test-pod', leaderElection: true });
  const base = `http://127.0.0.1:${started['adminPort'] as number}`;
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  await waitFor('/readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);

  // The credentials API is on by default, with a self-signed certificate published in the operator's namespace.
  const ca = (
    await rest.get<{ data: Record<string, string> }>(
      `/api/v1/namespaces/${ns}/configmaps/turnrelay-operator-credentials-ca`,
    )
  ).data['ca.crt'];
  const unauthenticated = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      `https://127.0.0.1:${started['credentialsApiPort'] as number}/v1/namespaces/${ns}/turnrelays/cli/credentials`,
      { method: 'POST', ca },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
  expect(unauthenticated).toBe(401);

  await applyRelay(
    rest,
    ns,
    relayObject('cli', { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] }),
  );
  await waitFor('children', async () => (await liveChildren(rest, ns, 'cli')).length === 6, 30_000);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toMatch(/^turnrelay_operator_reconciles_total\{result="not-ready"\} [1-9]/m);
  expect(metrics).toMatch(/^turnrelay_operator_workqueue_depth \d+/m);
  expect(metrics).toMatch(/^turnrelay_operator_reconcile_duration_seconds_count [1-9]/m);
  expect(metrics).toMatch(/^turnrelay_operator_leader 1$/m);

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
  const lease = await rest.get<{ spec: { holderIdentity?: string } }>(
    `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/turnrelay-operator`,
  );
  expect(lease.spec.holderIdentity).toBeUndefined();
  expect(logs.map((l) => l['msg'])).toEqual(
    expect.arrayContaining(['became leader', 'shutting down', 'released leader lease', 'operator stopped']),
  );
  // Nothing sensitive in the logs: no shared secret from the auth Secret appears.
  const secret = await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/cli-turn-auth`);
  const shared = Buffer.from(secret.data['secrets']!, 'base64').toString('utf8').trim();
  expect(JSON.stringify(logs)).not.toContain(shared);
}, 120_000);
