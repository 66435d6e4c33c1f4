// The monitoring queries against a real Prometheus (built from its Go module)
// scraping a real relay process and a real operator: promtool parses every
// alert expression and every Grafana dashboard query, and each one returns
// data once the test has made its condition happen (a pod that cannot be
// scraped, allocations at the limit, failed authentications, refused peers,
// bandwidth-limit drops, a certificate expiring within a day).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ChildSet } from '../interop/harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from '../interop/harness/relay-config-files.js';
import { relayFromSources, startRelayProcess, type RelayProcess } from '../interop/harness/relay-process.js';
import { freeUdpPort, freeUdpTcpPort, randomPortBlock } from '../interop/harness/ports.js';
import { requireTools } from '../interop/harness/tools.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from './harness/cluster.js';
import { prometheusBinaries, startPrometheus, type PrometheusServer } from './harness/prometheus.js';
import {
  ROOT,
  adminRest,
  applyRelay,
  installTurnRelayCrd,
  relayObject,
  startTestOperator,
  waitFor,
} from './operator-fixtures.js';
import { relayAlertRules } from '../../operator/render/relay-alerts.js';
import type { OperatorHandle } from '../../operator/main.js';

const tools = requireTools(['turnutils_uclient', 'turnutils_peer', 'openssl']);
const host = randomLoopbackAddress();
const user = { name: 'alice', password: 'monitoring test password' };
const children = new ChildSet();
let dir: string;
let ns: string;
let relay: RelayProcess;
let operator: OperatorHandle;
let prometheus: PrometheusServer;
let peerPort = 0;

interface Dashboard {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
}

function dashboardQueries(dashboard: Dashboard): Array<{ panel: string; expr: string }> {
  const vars: Record<string, string> = {
    namespace: ns,
    turnrelay: 'edge',
    operator_namespace: ns,
    __rate_interval: '1m',
    __range: '5m',
  };
  const substitute = (expr: string) => expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => vars[name] ?? whole);
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: substitute(t.expr) })));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-prometheus-'));
  ns = await createTestNamespace('prometheus');
  const kc = testKubeConfig();
  const rest = await adminRest(kc);
  await installTurnRelayCrd(rest);
  operator = await startTestOperator(kc, ns, { admin: { host: '127.0.0.1', port: 0 } });
  // Reconciles that apply and then prune (the autoscaler goes when replicas come back) feed the operator panels.
  await applyRelay(
    rest,
    ns,
    relayObject('edge', {
      listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }],
      autoscaling: { minReplicas: 1, maxReplicas: 2 },
      resources: { requests: { cpu: '100m' } },
    }),
  );
  await waitFor('autoscaler applied', () =>
    rest.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/edge`),
  );
  await applyRelay(
    rest,
    ns,
    relayObject('edge', { listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }], replicas: 1 }),
  );
  await waitFor(
    'autoscaler pruned',
    async () => !(await rest.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/edge`)),
  );
  rest.close();

  // TLS with the harness' one-day certificate; 200 allocations fill the limit; 8 kbit/s makes uclient's traffic drop.
  const { configPath } = await writeRelayFiles({
    dir,
    host,
    listeners: ['udp', 'tls'],
    users: { [user.name]: user.password },
    portRange: randomPortBlock(400),
    allowCIDRs: [`${host}/32`],
    logLevel: 'warn',
    limits: { maxAllocations: 200, maxAllocationsPerUser: 500, maxBitrateKbps: 8 },
  });
  relay = await startRelayProcess(children, relayFromSources, configPath);
  peerPort = await freeUdpPort(host);
  children.start(tools.turnutils_peer, ['-L', host, '-p', String(peerPort)]);

  const relayAdmin = new URL(relayMetricsUrl(relay));
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(rulesFile, stringify({ groups: relayAlertRules({ namespace: ns, name: 'edge' }) }));
  prometheus = await startPrometheus(
    children,
    dir,
    {
      relay: [
        { address: relayAdmin.host, labels: { namespace: ns, turnrelay: 'edge', pod: 'edge-0' } },
        // A relay pod that is gone: nothing listens there.
        {
          address: `127.0.0.1:${await freeUdpTcpPort('127.0.0.1')}`,
          labels: { namespace: ns, turnrelay: 'edge', pod: 'edge-1' },
        },
      ],
      operator: [{ address: `127.0.0.1:${operator.adminPort}`, labels: { namespace: ns, pod: 'operator-0' } }],
    },
    [rulesFile],
  );
}, 180_000);

afterAll(async () => {
  await children.stopAll();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed first
  await operator?.stop();
  if (ns) await deleteTestNamespace(ns);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

function relayMetricsUrl(r: RelayProcess): string {
  const line = r.child
    .stdout()
    .split('\n')
    .find((l) => l.includes('"msg":"relay started"'))!;
  const { admin } = JSON.parse(line) as { admin: { host: string; port: number } };
  return `http://${admin.host}:${admin.port}/metrics`;
}

function promtoolCheckRules(file: string): void {
  const { promtool } = prometheusBinaries();
  try {
    execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool check rules ${file} failed:\n${e.stdout}\n${e.stderr}`, { cause: err });
  }
}

function uclient(args: string[], timeoutMs = 10_000): Promise<unknown> {
  return children.run(tools.turnutils_uclient, ['-c', '-X', ...args, '-p', String(relay.endpoint('udp').port), host], {
    timeoutMs,
  });
}

async function returnsData(expr: string, what: string): Promise<void> {
  await waitFor(
    `${what} to return data (${expr})`,
    async () => (await prometheus.query(expr)).length > 0,
    90_000,
    1000,
  );
}

test('promtool parses every alert expression and every dashboard query', async () => {
  promtoolCheckRules(join(dir, 'alerts.yaml'));
  const dashboard = JSON.parse(
    await readFile(join(ROOT, 'charts/turnrelay-operator/files/grafana-dashboard.json'), 'utf8'),
  ) as Dashboard;
  const queries = dashboardQueries(dashboard);
  expect(queries.length).toBeGreaterThan(20);
  const file = join(dir, 'dashboard-queries.yaml');
  await writeFile(
    file,
    stringify({
      groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })) }],
    }),
  );
  promtoolCheckRules(file);
  // promtool has teeth: a broken expression is refused.
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (pod (up)' }] }] }));
  expect(() => promtoolCheckRules(broken)).toThrow(/promtool check rules/);
}, 60_000);

test('with their conditions made real, every alert expression and every dashboard query returns data', async () => {
  // Wrong passwords and a peer outside the allow-list, a few times over.
  const outside = host.replace(/\.(\d+)$/, (_, last: string) => `.${(Number(last) % 254) + 1}`);
  // Counters must be scraped before they rise, or Prometheus never sees the increase.
  // Refusal series appear with their first refusal, so one comes before the burst.
  await returnsData('turnrelay_auth_total{pod="edge-0"}', 'first scrape of the relay');
  await uclient(['-m', '1', '-n', '2', '-u', user.name, '-w', user.password, '-e', outside, '-r', String(peerPort)]);
  await returnsData('turnrelay_peer_refusals_total{pod="edge-0"}', 'first refusal scraped');
  // Twelve sessions (24 allocations) held for a while, sending far above 8 kbit/s (drops).
  const hold = uclient(
    [
      '-m',
      '12',
      '-n',
      '600',
      '-l',
      '1000',
      '-z',
      '50',
      '-u',
      user.name,
      '-w',
      user.password,
      '-e',
      host,
      '-r',
      String(peerPort),
    ],
    60_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  // Refused peers first: the wrong passwords below get the client address rate limited.
  // rate(...[5m]) > 0.2 needs more than 60 in the window. uclient stops at its first 403 and
  // leaves its two allocations behind: with the 24 above, that reaches the 200 allowed (the limit alert).
  for (let batch = 0; batch < 9; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, () =>
        uclient(['-m', '1', '-n', '2', '-u', user.name, '-w', user.password, '-e', outside, '-r', String(peerPort)]),
      ),
    );
  }
  await Promise.all(
    [0, 1, 2, 3, 4, 5, 6, 7].map(() =>
      uclient(['-m', '10', '-n', '2', '-u', user.name, '-w', 'wrong password', '-e', host, '-r', String(peerPort)]),
    ),
  );
  for (const group of relayAlertRules({ namespace: ns, name: 'edge' })) {
    for (const rule of group.rules) await returnsData(rule.expr, `alert ${rule.alert}`);
  }
  // And Prometheus itself evaluates them from the rule file: every alert is pending or firing
  // (ALERTS holds an alert only after the rule's next evaluation, so wait for that one).
  const expected = new Set(relayAlertRules({ namespace: ns, name: 'edge' })[0]!.rules.map((r) => r.alert));
  const alertNames = async () => new Set((await prometheus.query('ALERTS')).map((a) => a.metric.alertname));
  await waitFor('every alert in ALERTS', async () => (await alertNames()).size >= expected.size).catch(() => undefined);
  expect(await alertNames()).toEqual(expected);

  const dashboard = JSON.parse(
    await readFile(join(ROOT, 'charts/turnrelay-operator/files/grafana-dashboard.json'), 'utf8'),
  ) as Dashboard;
  for (const q of dashboardQueries(dashboard)) await returnsData(q.expr, `panel "${q.panel}"`);
  // The template variables' label_values() queries find this relay and namespace.
  expect((await prometheus.query('turnrelay_allocations')).map((s) => s.metric.turnrelay)).toContain('edge');
  expect((await prometheus.query('turnrelay_operator_leader')).map((s) => s.metric.namespace)).toContain(ns);
  await hold;
}, 240_000);
