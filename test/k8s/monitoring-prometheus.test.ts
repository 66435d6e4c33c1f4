// The monitoring queries against a real Prometheus (built from its Go module)
// scraping a real relay process and a real operator: promtool parses every
// alert expression and every Grafana dashboard query.
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
import { ROOT, adminRest, applyRelay, installTurnRelayCrd, relayObject, startTestOperator, waitFor } from './operator-fixtures.js';
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
    namespace: ns, turnrelay: 'edge', operator_namespace: ns, __rate_interval: '1m', __range: '5m',
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
  await applyRelay(rest, ns, relayObject('edge', {
    listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }], autoscaling: { minReplicas: 1, maxReplicas: 2 }, resources: { requests: { cpu: '100m' } },
  }));
  await waitFor('autoscaler applied', () => rest.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/edge`));
  await applyRelay(rest, ns, relayObject('edge', { listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }], replicas: 1 }));
  await waitFor('autoscaler pruned', async () => !(await rest.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/edge`)));
  rest.close();

  // TLS with the harness' one-day certificate; two allocations fill the limit; 8 kbit/s makes uclient's traffic drop.
  const { configPath } = await writeRelayFiles({
    dir, host, listeners: ['udp', 'tls'], users: { [user.name]: user.password }, portRange: randomPortBlock(),
    allowCIDRs: [`${host}/32`], logLevel: 'warn', limits: { maxAllocations: 2, maxBitrateKbps: 8 },
  });
  relay = await startRelayProcess(children, relayFromSources, configPath);
  peerPort = await freeUdpPort(host);
  children.start(tools.turnutils_peer, ['-L', host, '-p', String(peerPort)]);

  const relayAdmin = new URL(await relayMetricsUrl(relay));
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(rulesFile, stringify({ groups: relayAlertRules({ namespace: ns, name: 'edge' }) }));
  prometheus = await startPrometheus(children, dir, {
    relay: [
      { address: relayAdmin.host, labels: { namespace: ns, turnrelay: 'edge', pod: 'edge-0' } },
      // A relay pod that is gone: nothing listens there.
      { address: `127.0.0.1:${await freeUdpTcpPort('127.0.0.1')}`, labels: { namespace: ns, turnrelay: 'edge', pod: 'edge-1' } },
    ],
    operator: [{ address: `127.0.0.1:${operator.adminPort}`, labels: { namespace: ns, pod: 'operator-0' } }],
  }, [rulesFile]);
}, 180_000);

afterAll(async () => {
  await children.stopAll();
  await operator?.stop();
  if (ns) await deleteTestNamespace(ns);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

async function relayMetricsUrl(r: RelayProcess): Promise<string> {
  const line = r.child.stdout().split('\n').find((l) => l.includes('"msg":"relay started"'))!;
  const { admin } = JSON.parse(line) as { admin: { host: string; port: number } };
  return `http://${admin.host}:${admin.port}/metrics`;
}

function promtoolCheckRules(file: string): void {
  const { promtool } = prometheusBinaries();
  try {
    execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool check rules ${file} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

function uclient(args: string[], timeoutMs = 10_000): Promise<unknown> {
  return children.run(tools.turnutils_uclient, ['-c', '-X', ...args, '-p', String(relay.endpoint('udp').port), host], { timeoutMs });
}

async function returnsData(expr: string, what: string): Promise<void> {
  process.stderr.write(`waiting for ${what}\n`);
  await waitFor(`${what} to return data (${expr})`, async () => (await prometheus.query(expr)).length > 0, 90_000, 1000);
}

test('promtool parses every alert expression and every dashboard query', async () => {
  promtoolCheckRules(join(dir, 'alerts.yaml'));
  const dashboard = JSON.parse(await readFile(join(ROOT, 'charts/turnrelay-operator/files/grafana-dashboard.json'), 'utf8')) as Dashboard;
  const queries = dashboardQueries(dashboard);
  expect(queries.length).toBeGreaterThan(20);
  const file = join(dir, 'dashboard-queries.yaml');
  await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })) }] }));
  promtoolCheckRules(file);
  // promtool has teeth: a broken expression is refused.
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (pod (up)' }] }] }));
  expect(() => promtoolCheckRules(broken)).toThrow(/promtool check rules/);
}, 60_000);
