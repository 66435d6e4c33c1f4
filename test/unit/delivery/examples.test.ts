// The examples are meant to be applied as they are: every TurnRelay in them
// passes the operator's validation (zod schema + CEL-equivalent rules), and
// the example credentials backend mints credentials the relay would accept.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createCredentialsApp } from '../../../examples/ice-credentials-app/server.js';
import { validateTurnRelay } from '../../../operator/api/validate.js';
import type { TurnRelaySpecInput } from '../../../operator/api/turnrelay.js';
import { parseRestUsername, restPassword } from '../../../relay/auth/rest-credentials.js';
import { REPO_ROOT } from '../../../scripts/delivery/helm.js';

const EXAMPLE_FILES = readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml'));

test('there is an example for each documented use case', () => {
  expect(EXAMPLE_FILES.sort()).toEqual([
    'autoscaled.yaml',
    'p2p-hostnetwork.yaml',
    'sfu-loadbalancer.yaml',
    'tls-cert-manager.yaml',
  ]);
});

describe.each(EXAMPLE_FILES)('examples/%s', (file) => {
  const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as { apiVersion: string; kind: string; spec?: Record<string, unknown> };
  });

  test('holds one valid TurnRelay and only well-known other kinds', () => {
    const relays = docs.filter((d) => d.kind === 'TurnRelay');
    expect(relays).toHaveLength(1);
    const result = validateTurnRelay(relays[0]);
    expect(result.ok ? [] : result.issues).toEqual([]);
    for (const other of docs.filter((d) => d.kind !== 'TurnRelay'))
      expect(['Namespace', 'ClusterIssuer']).toContain(other.kind);
  });
});

test('the examples show the features they are named after', () => {
  const relay = (file: string) =>
    parseAllDocuments(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8'))
      .map((d) => d.toJS() as { kind: string; spec: TurnRelaySpecInput })
      .find((d) => d.kind === 'TurnRelay')!.spec;
  expect(relay('p2p-hostnetwork.yaml').network?.mode).toBe('HostNetwork');
  expect(relay('sfu-loadbalancer.yaml').peers?.allowServices).toEqual([{ name: 'sfu', namespace: 'media' }]);
  expect(relay('tls-cert-manager.yaml').tls?.issuerRef).toEqual({ name: 'letsencrypt', kind: 'ClusterIssuer' });
  expect(relay('autoscaled.yaml').autoscaling).toMatchObject({ minReplicas: 2, maxReplicas: 20 });
});

describe('examples/ice-credentials-app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ice-app-'));
  const secretsFile = join(dir, 'secrets');
  const urls = ['turn:127.0.0.1:3478?transport=udp'];
  const app = createCredentialsApp({ source: { kind: 'secrets-file', secretsFile, urls }, ttlSeconds: 600 });
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(app.address() as AddressInfo).port}/ice-servers`;
  });
  afterAll(async () => {
    await new Promise((resolve) => app.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('answers 503 without a secrets file and keeps serving', async () => {
    const res = await fetch(base, { headers: { 'x-forwarded-user': 'alice' } });
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain(dir);
  });

  test('mints a credential from the newest secret that expires after the TTL', async () => {
    writeFileSync(secretsFile, 'newest-secret\nolder-secret\n');
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(base, { headers: { 'x-forwarded-user': 'alice' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      iceServers: Array<{ urls: string[]; username: string; credential: string }>;
      expiresAt: string;
    };
    const [server] = body.iceServers;
    expect(server!.urls).toEqual(urls);
    expect(parseRestUsername(server!.username)?.user).toBe('alice');
    expect(parseRestUsername(server!.username)!.expiry - before).toBeGreaterThanOrEqual(600);
    expect(parseRestUsername(server!.username)!.expiry - before).toBeLessThanOrEqual(601);
    expect(server!.credential).toBe(restPassword('newest-secret', server!.username));
    expect(JSON.stringify(body)).not.toContain('newest-secret');
  });

  test('follows a rotated secrets file without a restart', async () => {
    writeFileSync(secretsFile, 'rotated-secret\nnewest-secret\n');
    const body = (await (await fetch(base, { headers: { 'x-forwarded-user': 'bob' } })).json()) as {
      iceServers: Array<{ username: string; credential: string }>;
    };
    expect(body.iceServers[0]!.credential).toBe(restPassword('rotated-secret', body.iceServers[0]!.username));
  });

  test('refuses unauthenticated requests, other methods and paths', async () => {
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(base, { method: 'POST', headers: { 'x-forwarded-user': 'alice' } })).status).toBe(405);
    expect((await fetch(base.replace('/ice-servers', '/'), { headers: { 'x-forwarded-user': 'alice' } })).status).toBe(
      404,
    );
  });
});
