// The credentials API against the real API server: workloads present their
// own ServiceAccount token (audience turnrelay.dev/credentials), TokenReview
// authenticates it, a SubjectAccessReview on turnrelays/credentials
// authorizes it, and the answer is a credential a real relay process accepts
// (turnutils_uclient and Chromium relay with it).
// The operator runs as a ServiceAccount with exactly the rules of
// operator/rbac.ts. Hostile callers (garbage tokens, huge bodies, slow
// clients, floods) are refused while everyone else keeps being served.
import https from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { kubeConfigForServiceAccount, testKubeconfigPath } from './harness/cluster.js';
import { createCredentialsApp } from '../../examples/ice-credentials-app/server.js';
import {
  applyRelay,
  authSecretLines,
  getRelay,
  relayObject,
  setLoadBalancerIngress,
  startTestOperator,
  waitFor,
  kc,
  rest,
  ns,
  useNamespacePerFile,
} from './operator-fixtures.js';
import type { OperatorHandle } from '../../operator/main.js';
import {
  CREDENTIALS_API_CLUSTER_RULES,
  CREDENTIALS_API_NAMESPACE_RULES,
  CREDENTIALS_REQUESTER_RULES,
  OPERATOR_CLUSTER_RULES,
} from '../../operator/rbac.js';
import { CREDENTIALS_AUDIENCE, credentialsPath } from '../../operator/credentials-api/request.js';
import { CA_KEY, bootstrapServingCert, type ServingCert } from '../../operator/credentials-api/serving-cert.js';
import { startCredentialsApi } from '../../operator/credentials-api/server.js';
import { X509Certificate } from 'node:crypto';
import { requestCredentials, CredentialsApiError } from '../../operator/credentials-api/client.js';
import { createLogger } from '../../shared/log.js';
import { parseRestUsername } from '../../relay/auth/rest-credentials.js';
import { ChildSet } from '../interop/harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from '../interop/harness/relay-config-files.js';
import { relayFromSources, startRelayProcess } from '../interop/harness/relay-process.js';
import { freeUdpTcpPort, randomPortBlock } from '../interop/harness/ports.js';
import { findRepoRoot } from '../interop/harness/repo-root.js';
import { runUclient } from '../interop/harness/uclient.js';
import { launchChromium, runTurnPair } from '../interop/harness/chromium.js';

const RELAY = 'edge';
const RELAY_TTL = 600; // credentialTTL: 10m
let operator: OperatorHandle | undefined;
let ca = '';
let base = '';
const logged = new PassThrough();
let logText = '';
logged.on('data', (c: Buffer) => {
  logText += c.toString('utf8');
});
const children = new ChildSet();
const clusterRole = (suffix: string) => `turnrelay-${suffix}-${ns}`;
const rbac = '/apis/rbac.authorization.k8s.io/v1';

async function serviceAccount(name: string): Promise<void> {
  await rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name } } });
}

async function tokenFor(name: string, audiences: string[] = [CREDENTIALS_AUDIENCE]): Promise<string> {
  const res = await rest.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
    { body: { spec: { audiences, expirationSeconds: 600 } } },
  );
  return res.status.token;
}

async function bind(name: string, roleRef: { kind: string; name: string }, saName: string): Promise<void> {
  await rest.request('POST', `${rbac}/namespaces/${ns}/rolebindings`, {
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns }],
    },
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function post(
  path: string,
  opts: { token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${base}${path}`,
      {
        method: 'POST',
        ca,
        agent: false,
        headers: {
          ...(opts.token !== undefined ? { Authorization: `Bearer ${opts.token}` } : {}),
          'Content-Type': 'application/json',
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

const edgePath = () => credentialsPath({ namespace: ns, name: RELAY });

useNamespacePerFile('creds-api', {
  setUp: async () => {
    // The operator's own identity, with exactly the chart's rules.
    await serviceAccount('operator');
    const subjects = [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }];
    await rest.request('POST', `${rbac}/clusterroles`, {
      body: {
        metadata: { name: clusterRole('op') },
        rules: [...OPERATOR_CLUSTER_RULES, ...CREDENTIALS_API_CLUSTER_RULES],
      },
    });
    await rest.request('POST', `${rbac}/clusterrolebindings`, {
      body: {
        metadata: { name: clusterRole('op') },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole('op') },
        subjects,
      },
    });
    await rest.request('POST', `${rbac}/namespaces/${ns}/roles`, {
      body: { metadata: { name: 'credentials-tls' }, rules: CREDENTIALS_API_NAMESPACE_RULES },
    });
    await bind('credentials-tls', { kind: 'Role', name: 'credentials-tls' }, 'operator');
    // What a workload is granted; the chart ships it as <fullname>-credentials-requester.
    await rest.request('POST', `${rbac}/clusterroles`, {
      body: { metadata: { name: clusterRole('requester') }, rules: CREDENTIALS_REQUESTER_RULES },
    });

    const saKc = await kubeConfigForServiceAccount(ns, 'operator', { admin: kc });
    operator = await startTestOperator(saKc, ns, {
      log: createLogger('operator-test', 'info', logged),
      credentialsApi: {
        host: '127.0.0.1',
        port: 0,
        tls: {
          bootstrap: {
            namespace: ns,
            secretName: 'credentials-tls',
            caConfigMapName: 'credentials-ca',
            dnsNames: ['localhost'],
          },
        },
        // Slow refills, so what a flood gets through does not depend on how fast this machine runs it.
        perIdentity: { qps: 0.01, burst: 10 },
        failuresPerAddress: { qps: 1, burst: 10 },
        requestTimeoutMs: 2_000,
      },
    });
    base = `https://127.0.0.1:${operator.credentialsApiPort}`;
    const cm = await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/credentials-ca`);
    ca = cm.data[CA_KEY]!;

    await applyRelay(
      rest,
      ns,
      relayObject(RELAY, {
        realm: 'turn.example.com',
        listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }],
        auth: { credentialTTL: '10m' },
      }),
    );
    await setLoadBalancerIngress(rest, ns, RELAY, '198.51.100.7');
    await waitFor(
      'ICE servers in status',
      async () =>
        (((await getRelay(rest, ns, RELAY))?.status?.['iceServers'] as string[] | undefined) ?? []).length > 0,
    );
  },
  tearDown: async () => {
    await children.stopAll();
    await operator?.stop();
    for (const name of [clusterRole('op'), clusterRole('requester')]) {
      await rest.request('DELETE', `${rbac}/clusterroles/${name}`).catch(() => undefined);
      await rest.request('DELETE', `${rbac}/clusterrolebindings/${name}`).catch(() => undefined);
    }
  },
});

test('a granted ServiceAccount gets a credential a real relay accepts, capped at the relay TTL, and nothing leaks the secret', async () => {
  await serviceAccount('app');
  await bind('app-credentials', { kind: 'ClusterRole', name: clusterRole('requester') }, 'app');
  const token = await tokenFor('app');
  const before = Math.floor(Date.now() / 1000);
  const answer = await post(edgePath(), { token, body: JSON.stringify({ user: 'alice', ttlSeconds: 86_400 }) });
  expect(answer.status).toBe(200);
  expect(answer.headers['cache-control']).toBe('no-store');
  const config = JSON.parse(answer.text) as {
    iceServers: Array<{ urls: string[]; username: string; credential: string }>;
    expiresAt: string;
  };
  const status = (await getRelay(rest, ns, RELAY))!.status!;
  expect(config.iceServers).toHaveLength(1);
  const server = config.iceServers[0]!;
  expect(server.urls).toEqual(status['iceServers']);
  const parsed = parseRestUsername(server.username)!;
  expect(parsed.user).toBe('alice');
  expect(parsed.expiry - before).toBeLessThanOrEqual(RELAY_TTL + 1);
  expect(parsed.expiry - before).toBeGreaterThanOrEqual(RELAY_TTL - 5);

  // Without a body: the caller's own name is the user, and the TTL is the relay's.
  const own = await requestCredentials({ url: base, token, ca }, { namespace: ns, name: RELAY });
  expect(parseRestUsername(own.iceServers[0]!.username)!.user).toBe(`system:serviceaccount:${ns}:app`);

  // A real relay process with the auth Secret's secrets relays with the credential.
  const secrets = (await authSecretLines(rest, ns, `${RELAY}-turn-auth`))!;
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-creds-api-'));
  try {
    const host = randomLoopbackAddress();
    const { configPath } = await writeRelayFiles({
      dir,
      host,
      listeners: ['udp'],
      secrets,
      portRange: randomPortBlock(),
      allowCIDRs: [`${host}/32`],
    });
    const relay = await startRelayProcess(children, relayFromSources, configPath);
    const outcome = await runUclient(children, {
      server: relay.endpoint('udp'),
      transport: 'udp',
      method: 'channel-data',
      auth: { kind: 'long-term', user: server.username, password: server.credential },
      peer: { kind: 'client-to-client' },
      sessions: 1,
      messages: 20,
      size: 120,
      timeoutMs: 30_000,
    });
    // Client-to-client: both allocations send 20 and receive each other's.
    expect(outcome.report.sent).toBe(40);
    expect(outcome.report.received).toBe(40);
    expect(outcome.report.lost).toBe(0);
    await relay.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // Every issuance is logged with who, which relay, which user and the TTL; never the credential or the secret.
  const issued = logText
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['msg'] === 'credentials issued');
  expect(issued).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        caller: `system:serviceaccount:${ns}:app`,
        relay: `${ns}/${RELAY}`,
        user: 'alice',
        ttlSeconds: RELAY_TTL,
      }),
    ]),
  );
  const events = JSON.stringify(await rest.get(`/api/v1/namespaces/${ns}/events`));
  for (const secret of secrets) {
    expect(answer.text).not.toContain(secret);
    expect(logText).not.toContain(secret);
    expect(events).not.toContain(secret);
  }
  expect(logText).not.toContain(server.credential);
}, 90_000);

test('a ServiceAccount without the grant gets 403, and the built-in edit role grants it through aggregation', async () => {
  await serviceAccount('stranger');
  const denied = await post(edgePath(), { token: await tokenFor('stranger') });
  expect(denied.status).toBe(403);
  expect(denied.text).not.toMatch(/iceServers/);

  // The chart's requester ClusterRole carries the aggregate-to-edit label; the
  // controller manager's aggregation folds it into "edit".
  const aggregated = clusterRole('requester');
  await rest.request('PATCH', `${rbac}/clusterroles/${aggregated}`, {
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } } },
  });
  await serviceAccount('editor');
  await bind('editor-edit', { kind: 'ClusterRole', name: 'edit' }, 'editor');
  await waitFor(
    'edit aggregates the requester rules',
    async () => {
      const review = await rest.request<{ status?: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            spec: {
              user: `system:serviceaccount:${ns}:editor`,
              groups: ['system:serviceaccounts'],
              resourceAttributes: {
                namespace: ns,
                verb: 'create',
                group: 'turnrelay.dev',
                resource: 'turnrelays',
                subresource: 'credentials',
                name: RELAY,
              },
            },
          },
        },
      );
      return review.status?.allowed;
    },
    60_000,
    500,
  );
  const ok = await post(edgePath(), { token: await tokenFor('editor') });
  expect(ok.status).toBe(200);
  expect((JSON.parse(ok.text) as { iceServers: unknown[] }).iceServers).toHaveLength(1);
}, 90_000);

test('tokens for another audience, garbage and missing tokens get 401; an unknown relay 404 only for the granted', async () => {
  await serviceAccount('other-audience');
  await bind('other-audience-credentials', { kind: 'ClusterRole', name: clusterRole('requester') }, 'other-audience');
  const apiServerToken = await tokenFor('other-audience', []);
  expect((await post(edgePath(), { token: apiServerToken })).status).toBe(401);
  expect((await post(edgePath(), { token: await tokenFor('other-audience', ['vault']) })).status).toBe(401);
  expect((await post(edgePath(), { token: 'not-a-token' })).status).toBe(401);
  const missing = await post(edgePath());
  expect(missing.status).toBe(401);
  expect(missing.headers['www-authenticate']).toBe('Bearer');
  const good = await tokenFor('other-audience');
  expect((await post(credentialsPath({ namespace: ns, name: 'absent' }), { token: good })).status).toBe(404);
  expect((await post(edgePath(), { token: good, body: '{"ttlSeconds": -1}' })).status).toBe(400);
  expect((await post(edgePath(), { token: good, body: '{"user": "x", "secret": "y"}' })).status).toBe(400);
  expect((await post(edgePath(), { token: good, body: 'not json' })).status).toBe(400);
  await expect(
    requestCredentials({ url: base, token: 'garbage', ca }, { namespace: ns, name: RELAY }),
  ).rejects.toMatchObject({ failure: 'http', status: 401 });
  await expect(requestCredentials({ url: base, token: good }, { namespace: ns, name: RELAY })).rejects.toBeInstanceOf(
    CredentialsApiError,
  );
}, 60_000);

test('hostile callers: huge bodies, slow clients and floods are refused, and others are still served', async () => {
  for (const name of ['flooder', 'bystander']) {
    await serviceAccount(name);
    await bind(`${name}-credentials`, { kind: 'ClusterRole', name: clusterRole('requester') }, name);
  }
  const flooder = await tokenFor('flooder');
  const bystander = await tokenFor('bystander');

  // Declared and undeclared (chunked) oversized bodies.
  expect((await post(edgePath(), { token: flooder, body: 'x'.repeat(64 * 1024) })).status).toBe(413);
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      `${base}${edgePath()}`,
      { method: 'POST', ca, agent: false, headers: { Authorization: `Bearer ${flooder}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 16; i++) req.write('y'.repeat(1024));
    req.end();
  });
  expect(chunked).toBe(413);

  // A slow client that never finishes its headers is cut off; meanwhile others are answered.
  const slow = tlsConnect({ host: '127.0.0.1', port: operator!.credentialsApiPort!, ca, servername: 'localhost' });
  const closed = new Promise<void>((resolve) => slow.on('close', () => resolve()));
  slow.on('error', () => undefined);
  let slowAnswer = '';
  slow.on('data', (d: Buffer) => {
    slowAnswer += d.toString('utf8');
  });
  await new Promise<void>((resolve) => slow.once('secureConnect', () => resolve()));
  slow.write(`POST ${edgePath()} HTTP/1.1\r\nHost: localhost\r\n`);
  expect((await post(edgePath(), { token: bystander })).status).toBe(200);
  await closed;
  expect(slowAnswer).toMatch(/^HTTP\/1\.1 408 /);

  // A flood from one identity hits its limit (burst 10, one more per 100 s); another identity is unaffected.
  const flood = await Promise.all(Array.from({ length: 20 }, () => post(edgePath(), { token: flooder })));
  const codes = flood.map((a) => a.status);
  expect(codes.filter((c) => c === 200).length).toBeLessThanOrEqual(10);
  expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(10);
  expect(codes.filter((c) => c !== 200 && c !== 429)).toEqual([]);
  expect(flood.find((a) => a.status === 429)!.headers['retry-after']).toMatch(/^\d+$/);
  expect((await post(edgePath(), { token: bystander })).status).toBe(200);

  // Garbage tokens from one address are cut off before they cost TokenReviews (burst 10, one more per second)…
  const garbage = await Promise.all(Array.from({ length: 40 }, (_, i) => post(edgePath(), { token: `garbage-${i}` })));
  expect(garbage.map((a) => a.status)).toContain(429);
  expect(garbage.every((a) => a.status === 401 || a.status === 429)).toBe(true);
  // …and the address recovers once the flood stops.
  await waitFor(
    'served again after the garbage flood',
    async () => (await post(edgePath(), { token: bystander })).status === 200,
    10_000,
    300,
  );

  // The operator's metrics count the answers by status.
  const counted = (await operator!.metrics.credentialRequests.get()).values;
  const count = (code: string) => counted.find((v) => v.labels['code'] === code)?.value ?? 0;
  for (const code of ['200', '401', '413', '429'])
    expect({ code, seen: count(code) > 0 }).toEqual({ code, seen: true });
}, 90_000);

/** Sends raw bytes (over TLS unless `plain`) and returns whatever comes back before the server closes. */
function rawExchange(bytes: string, { plain = false } = {}): Promise<string> {
  return new Promise((resolve) => {
    const port = operator!.credentialsApiPort!;
    const socket = plain
      ? netConnect({ host: '127.0.0.1', port })
      : tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => undefined); // a reset after the answer is part of being refused
    socket.on('close', () => resolve(answer));
    socket.once(plain ? 'connect' : 'secureConnect', () => socket.write(bytes));
  });
}

test('garbage on the wire: non-TLS bytes, non-HTTP bytes, other paths and methods, huge headers; others are still served', async () => {
  await serviceAccount('onlooker');
  await bind('onlooker-credentials', { kind: 'ClusterRole', name: clusterRole('requester') }, 'onlooker');
  const onlooker = await tokenFor('onlooker');

  // Plain HTTP on the TLS port gets no HTTP answer, only a closed connection.
  expect(await rawExchange(`POST ${edgePath()} HTTP/1.1\r\nHost: localhost\r\n\r\n`, { plain: true })).not.toMatch(
    /^HTTP/,
  );
  // After the handshake, bytes that are not HTTP: 400, then the connection is closed.
  expect(await rawExchange('\x00\x01\x02 not http at all\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
  // Headers beyond the parser's limit: 431.
  expect(
    await rawExchange(`POST ${edgePath()} HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'p'.repeat(32 * 1024)}\r\n\r\n`),
  ).toMatch(/^HTTP\/1\.1 431 /);
  // The route only, and only POST.
  expect(await rawExchange(`GET ${edgePath()} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`)).toMatch(
    /^HTTP\/1\.1 405 /,
  );
  for (const path of [
    '/',
    `/v1/namespaces/%2e%2e/turnrelays/${RELAY}/credentials`,
    `/v1/namespaces/${ns}/turnrelays/${RELAY}/credentials/../../../../api`,
    `/v1/namespaces/${ns}/turnrelays/${'x'.repeat(300)}/credentials`,
    `/v1/namespaces/${ns}/turnrelays/Edge%00/credentials`,
  ])
    expect({ path, status: (await post(path, { token: onlooker })).status }).toEqual({ path, status: 404 });

  expect((await post(edgePath(), { token: onlooker })).status).toBe(200);
}, 60_000);

test('the CLI and the example app get credentials through the API that Chromium relays with, and turnrelay check passes on the relay they name', async () => {
  await serviceAccount('cli-user');
  await bind('cli-user-credentials', { kind: 'ClusterRole', name: clusterRole('requester') }, 'cli-user');
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-creds-cli-'));
  try {
    const tokenFile = join(dir, 'token');
    const caFile = join(dir, 'ca.crt');
    await writeFile(tokenFile, await tokenFor('cli-user'), { mode: 0o600 });
    await writeFile(caFile, ca);

    // A TurnRelay whose status URLs point at a real relay process holding its secrets.
    const host = randomLoopbackAddress();
    const port = await freeUdpTcpPort(host);
    await applyRelay(
      rest,
      ns,
      relayObject('live', {
        realm: 'turn.example.com',
        listeners: [
          { name: 'udp', protocol: 'UDP', port },
          { name: 'tcp', protocol: 'TCP', port },
        ],
        auth: { credentialTTL: '10m' },
        network: { relayPortRange: { min: 20000, max: 20999 } },
      }),
    ); // the listener port is an ephemeral one
    await setLoadBalancerIngress(rest, ns, 'live', host);
    const status = await waitFor('ICE servers of live', async () => {
      const urls = ((await getRelay(rest, ns, 'live'))?.status?.['iceServers'] as string[] | undefined) ?? [];
      return urls.length === 2 ? urls : undefined;
    });
    const secrets = await waitFor('auth Secret of live', () => authSecretLines(rest, ns, 'live-turn-auth'));
    const files = await writeRelayFiles({
      dir,
      host,
      listeners: ['udp', 'tcp'],
      secrets,
      portRange: randomPortBlock(),
      allowCIDRs: [`${host}/32`],
    });
    const config = JSON.parse(await readFile(files.configPath, 'utf8')) as { listeners: Array<{ port: number }> };
    for (const l of config.listeners) l.port = port;
    await writeFile(files.configPath, JSON.stringify(config));
    const relay = await startRelayProcess(children, relayFromSources, files.configPath);

    const repoRoot = findRepoRoot(import.meta.url);
    const turnrelay = (args: string[]) =>
      children.run(`${repoRoot}node_modules/.bin/tsx`, [`${repoRoot}cli/turnrelay.ts`, ...args], {
        timeoutMs: 60_000,
        cwd: repoRoot,
      });
    const relayFlags = ['--namespace', ns, '--name', 'live', '--token-file', tokenFile];
    const cli = (args: string[]) =>
      turnrelay([
        ...args,
        ...relayFlags,
        '--credentials-url',
        base,
        '--credentials-ca-file',
        caFile,
        '--kubeconfig',
        testKubeconfigPath(),
      ]);

    const minted = await cli(['credentials', '--user', 'carol', '--ttl', '24h']);
    expect({ code: minted.code, stderr: minted.stderr }).toEqual({ code: 0, stderr: '' });
    const fromCli = JSON.parse(minted.stdout) as { iceServers: Array<{ urls: string[]; username: string }> };
    expect(fromCli.iceServers[0]!.urls).toEqual(status);
    const parsed = parseRestUsername(fromCli.iceServers[0]!.username)!;
    expect(parsed.user).toBe('carol');
    expect(parsed.expiry - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(RELAY_TTL);

    // Without --credentials-url the in-cluster default is tried; outside a cluster it does not resolve,
    // so the CLI says so and reads the auth Secret with the kubeconfig (admin here) instead.
    const fallback = await turnrelay([
      'credentials',
      '--user',
      'erin',
      ...relayFlags,
      '--kubeconfig',
      testKubeconfigPath(),
    ]);
    expect(fallback.code).toBe(0);
    expect(fallback.stderr).toMatch(/credentials API not reachable .*ENOTFOUND.*; reading the auth Secret instead/);
    const viaSecret = JSON.parse(fallback.stdout) as { iceServers: Array<{ urls: string[]; username: string }> };
    expect(viaSecret.iceServers[0]!.urls).toEqual(status);
    expect(parseRestUsername(viaSecret.iceServers[0]!.username)!.user).toBe('erin');

    const checked = await cli(['check']);
    expect({ code: checked.code, stderr: checked.stderr }).toEqual({ code: 0, stderr: '' });
    const rows = checked.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => [r[0], r[1], r[2]])).toEqual([
      [status[0], 'udp', 'ok'],
      [status[1], 'tcp', 'ok'],
    ]);

    // The example backend, with no Secret mounted: the API answers for it.
    const app = createCredentialsApp({
      source: { kind: 'api', url: base, namespace: ns, name: 'live', tokenFile, ca },
      ttlSeconds: 86_400,
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(app.address() as AddressInfo).port}/ice-servers`, {
        headers: { 'x-forwarded-user': 'dave' },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        iceServers: Array<{ urls: string[]; username: string; credential: string }>;
      };
      expect(body.iceServers[0]!.urls).toEqual(status);
      expect(parseRestUsername(body.iceServers[0]!.username)!.user).toBe('dave');
      expect(
        parseRestUsername(body.iceServers[0]!.username)!.expiry - Math.floor(Date.now() / 1000),
      ).toBeLessThanOrEqual(RELAY_TTL);

      // Chromium relays a data channel with that credential through the real relay, over each status URL.
      const browser = await launchChromium();
      try {
        for (const [i, transport] of [
          [0, 'udp'],
          [1, 'tcp'],
        ] as const) {
          const result = await runTurnPair(browser, {
            iceServer: {
              urls: status[i]!,
              username: body.iceServers[0]!.username,
              credential: body.iceServers[0]!.credential,
            },
            messages: 5,
            marker: `api-${transport}`,
            timeoutMs: 30_000,
          });
          expect(result.echoes).toBe(5);
          for (const end of [result.a, result.b]) {
            expect(end.local.candidateType).toBe('relay');
            expect(end.local.relayProtocol).toBe(transport);
          }
        }
      } finally {
        await browser.close();
      }

      await writeFile(tokenFile, 'revoked');
      const refused = await fetch(`http://127.0.0.1:${(app.address() as AddressInfo).port}/ice-servers`, {
        headers: { 'x-forwarded-user': 'dave' },
      });
      expect(refused.status).toBe(503);
      expect(await refused.text()).toMatch(/credentials API refused this app \(401\)/);
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
    await relay.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

test('the self-signed serving certificate is shared, renewed when due or for other names, and served without a restart', async () => {
  const opts = { namespace: ns, secretName: 'renew-tls', caConfigMapName: 'renew-ca', dnsNames: ['renew.example.svc'] };
  const first = await bootstrapServingCert(rest, opts);
  expect(new X509Certificate(first.certPem).checkHost('renew.example.svc')).toBe('renew.example.svc');
  // A second replica gets the same key pair, and the published CA is that certificate.
  expect(await bootstrapServingCert(rest, opts)).toEqual(first);
  expect(
    (await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/renew-ca`)).data[CA_KEY],
  ).toBe(first.certPem);
  // Within 30 days of expiry (clock moved on) it is replaced, and so is one for other names.
  const renewed = await bootstrapServingCert(rest, { ...opts, now: () => Date.now() + 340 * 86_400_000 });
  expect(renewed.certPem).not.toBe(first.certPem);
  const renamed = await bootstrapServingCert(rest, { ...opts, dnsNames: ['other.example.svc'] });
  expect(renamed.certPem).not.toBe(renewed.certPem);
  expect(
    (await rest.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/renew-ca`)).data[CA_KEY],
  ).toBe(renamed.certPem);

  // A running server picks up a new key pair on its next check.
  let current: ServingCert = first;
  const api = await startCredentialsApi({
    rest,
    log: createLogger('renew-test', 'silent'),
    host: '127.0.0.1',
    port: 0,
    cert: first,
    reloadCert: () => Promise.resolve(current),
    reloadEveryMs: 100,
  });
  try {
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false }, () => {
          resolve(s.getPeerX509Certificate()!.toString());
          s.destroy();
        });
        s.on('error', reject);
      });
    expect(await served()).toBe(new X509Certificate(first.certPem).toString());
    current = renamed;
    await waitFor(
      'the new certificate served',
      async () => (await served()) === new X509Certificate(renamed.certPem).toString(),
      10_000,
      100,
    );
  } finally {
    await api.close();
  }
}, 60_000);
