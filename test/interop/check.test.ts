// `turnrelay check` (run through the CLI, as a user would) against our relay
// as a separate process over UDP, TCP and TLS: a healthy relay passes with a
// relayed address and RTT per URL, and each broken setup is named: wrong
// secret (401), wrong TLS name, untrusted certificate, closed ports, a name
// that does not resolve, a server that never answers, and a relay whose peer
// policy refuses the relayed addresses.
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSignedCert } from './harness/certs.js';
import { ChildSet, type RunResult } from './harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from './harness/relay-config-files.js';
import { relayFromSources, startRelayProcess, type RelayProcess } from './harness/relay-process.js';
import { freeUdpPort, freeUdpTcpPort, randomPortBlock } from './harness/ports.js';
import { findRepoRoot } from './harness/repo-root.js';
import { requireTools } from './harness/tools.js';

// Fails loudly when the certificate tool is missing.
requireTools(['openssl']);
const repoRoot = findRepoRoot(import.meta.url);
const SECRET = 'check-shared-secret-7d1e';
const children = new ChildSet();
let dir = '';
const good = { host: randomLoopbackAddress(), relay: undefined as RelayProcess | undefined, ca: '' };
const strict = { host: randomLoopbackAddress(), relay: undefined as RelayProcess | undefined, ca: '' };
let silent: Socket | undefined;

async function relayAt(
  sub: string,
  host: string,
  allowCIDRs: string[],
  tlsName?: string,
): Promise<{ relay: RelayProcess; ca: string }> {
  const d = join(dir, sub);
  await mkdir(d);
  const { configPath } = await writeRelayFiles({
    dir: d,
    host,
    listeners: ['udp', 'tcp', 'tls'],
    secrets: [SECRET],
    portRange: randomPortBlock(),
    allowCIDRs,
  });
  if (tlsName) {
    // A certificate for another name than the one the URL uses.
    await makeSelfSignedCert(d, { dnsNames: [tlsName] });
  }
  const relay = await startRelayProcess(children, relayFromSources, configPath);
  return { relay, ca: join(d, 'tls.crt') };
}

function check(args: string[]): Promise<RunResult> {
  return children.run(`${repoRoot}node_modules/.bin/tsx`, [`${repoRoot}cli/turnrelay.ts`, 'check', ...args], {
    timeoutMs: 60_000,
    cwd: repoRoot,
  });
}

const urlsOf = (r: RelayProcess, host: string) => [
  `turn:${host}:${r.endpoint('udp').port}?transport=udp`,
  `turn:${host}:${r.endpoint('tcp').port}?transport=tcp`,
  `turns:${host}:${r.endpoint('tls').port}?transport=tcp`,
];

/** The table's rows by URL: [transport, result, relayed address, RTT]. */
function rows(run: RunResult): Map<string, string[]> {
  const lines = run.stdout.trim().split('\n');
  if (!/^URL/.test(lines[0]!)) throw new Error(`no table; exit ${run.code}, stderr:\n${run.stderr}`);
  expect(lines[0]).toMatch(/^URL\s+TRANSPORT\s+RESULT\s+RELAYED ADDRESS\s+RTT$/);
  return new Map(
    lines.slice(1).map((l) => {
      const [url, ...rest] = l.split(/\s{2,}/);
      return [url!, rest];
    }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-check-'));
  Object.assign(good, await relayAt('good', good.host, [`${good.host}/32`]));
  // Default peer policy (loopback denied) and a certificate for another name.
  Object.assign(strict, await relayAt('strict', strict.host, [], 'elsewhere.example'));
  silent = createSocket('udp4');
  await new Promise<void>((r) => silent!.bind(0, good.host, () => r()));
}, 90_000);

afterAll(async () => {
  silent?.close();
  await children.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 20_000);

test('a healthy relay passes over UDP, TCP and TLS with a relayed address and RTT each', async () => {
  const secrets = join(dir, 'secrets');
  await writeFile(secrets, `${SECRET}\n`, { mode: 0o600 });
  const urls = urlsOf(good.relay!, good.host);
  const run = await check([
    '--urls',
    urls.join(','),
    '--secrets-file',
    secrets,
    '--ca-file',
    good.ca,
    '--timeout',
    '5s',
  ]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const table = rows(run);
  expect([...table.keys()]).toEqual(urls);
  expect(table.get(urls[0]!)!.slice(0, 2)).toEqual(['udp', 'ok']);
  expect(table.get(urls[1]!)!.slice(0, 2)).toEqual(['tcp', 'ok']);
  expect(table.get(urls[2]!)!.slice(0, 2)).toEqual(['tls', 'ok']);
  for (const [, cells] of table) {
    expect(cells[2]).toMatch(new RegExp(`^${good.host.replace(/\./g, '\\.')}:\\d+$`));
    expect(cells[3]).toMatch(/^\d+\.\d ms$/);
  }
}, 60_000);

test('a wrong secret is named 401 on every transport', async () => {
  const urls = urlsOf(good.relay!, good.host);
  const run = await check([
    '--urls',
    urls.join(','),
    '--username',
    `${Math.floor(Date.now() / 1000) + 600}:mallory`,
    '--password',
    'not-the-credential',
    '--ca-file',
    good.ca,
  ]);
  expect(run.code).toBe(1);
  for (const url of urls) {
    expect(rows(run).get(url)![1]).toBe('FAIL: 401');
    expect(run.stderr).toContain(`${url}: 401:`);
  }
}, 60_000);

test('broken setups are each named: TLS name, untrusted certificate, closed ports, DNS, silence, peer refused', async () => {
  const secrets = join(dir, 'secrets');
  await writeFile(secrets, `${SECRET}\n`, { mode: 0o600 });
  const closedTcp = await freeUdpTcpPort(good.host);
  const closedUdp = await freeUdpPort(good.host);
  const cases: Array<[string, string]> = [
    [`turns:${strict.host}:${strict.relay!.endpoint('tls').port}?transport=tcp`, 'FAIL: TLS name mismatch'],
    [`turn:${strict.host}:${strict.relay!.endpoint('udp').port}?transport=udp`, 'FAIL: peer refused'],
    [`turn:${good.host}:${closedTcp}?transport=tcp`, 'FAIL: connect'],
    [`turn:${good.host}:${closedUdp}?transport=udp`, 'FAIL: connect'],
    ['turn:no-such-relay.invalid:3478?transport=udp', 'FAIL: DNS'],
    [`turn:${good.host}:${silent!.address().port}?transport=udp`, 'FAIL: timeout'],
  ];
  const run = await check([
    '--urls',
    cases.map(([u]) => u).join(','),
    '--secrets-file',
    secrets,
    '--ca-file',
    strict.ca,
    '--timeout',
    '2s',
  ]);
  expect(run.code).toBe(1);
  const table = rows(run);
  expect(cases.map(([u]) => [u, table.get(u)?.[1]])).toEqual(cases);
  for (const [url] of cases) expect(run.stderr).toContain(url);

  // Without the CA the self-signed certificate is not trusted.
  const untrusted = await check(['--urls', urlsOf(good.relay!, good.host)[2]!, '--secrets-file', secrets]);
  expect(untrusted.code).toBe(1);
  expect(rows(untrusted).get(urlsOf(good.relay!, good.host)[2]!)![1]).toBe('FAIL: TLS certificate');
}, 90_000);
