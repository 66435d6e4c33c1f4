// TLS for a TurnRelay from real cert-manager (controller, webhook and
// cainjector built from its Go module, test/pods/harness/cert-manager.ts):
// the API server calls the webhook through its Service with the CA bundle
// cainjector injected; a self-signed ClusterIssuer signs a CA Certificate
// that backs a CA Issuer; the operator's Certificate for the relay is issued
// from it, mounted into the relay pod and served on the TLS listener; Chromium
// trusts the test CA through its NSS database (no --ignore-certificate-errors)
// and relays over turns: by the relay's DNS name; a forced renewal (what
// `cmctl renew` does) swaps the certificate in the running pod while a TLS
// TURN allocation opened before it keeps relaying.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import type { KubeRest } from '../../operator/runtime/kube-rest.js';
import { launchChromium, openTurnCall, type TurnCall } from '../interop/harness/chromium.js';
import { ChildSet } from '../interop/harness/children.js';
import { requireTools } from '../interop/harness/tools.js';
import { inNetns, runUclient } from '../interop/harness/uclient.js';
import { applyYaml, kubectl } from '../k8s/delivery-kubectl.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../k8s/harness/cluster.js';
import { mintWithCli, TRANSPORTS, urlFor } from '../k8s/ice-credentials.js';
import { adminRest, condition, getRelay, waitFor } from '../k8s/operator-fixtures.js';
import { CERT_MANAGER_NAMESPACE, startCertManager, type CertManager } from './harness/cert-manager.js';
import {
  FIELD_MANAGER,
  OPERATOR_DEPLOYMENT,
  OPERATOR_NAMESPACE,
  useInstalledOperator,
} from './harness/operator-install.js';
import { nodeIp, nodeNetns } from './harness/pods-env.js';
import { startEchoPeer } from './harness/relay-clients.js';

const DNS_NAME = 'turn.example.test';
const RELAY = 'edge';
const TLS_PORT = 5349;
const tools = requireTools(['openssl']);

let kc: KubeConfig;
let rest: KubeRest;
let certManager: CertManager | undefined;
let browser: Browser | undefined;
let call: TurnCall | undefined;
let namespace = '';
let clusterIp = '';
let caPem = '';
let workDir = '';
const children = new ChildSet();

const apply = (object: unknown) => applyYaml(JSON.stringify(object), { fieldManager: FIELD_MANAGER });
const getJson = async <T>(...args: string[]): Promise<T> =>
  JSON.parse(await kubectl(['get', '-o', 'json', ...args])) as T;
type Conditions = { status?: { conditions?: Array<{ type: string; status: string }>; revision?: number } };
const isReady = (object: Conditions) =>
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  kc = testKubeConfig();
  rest = await adminRest(kc);
  workDir = await mkdtemp(join(tmpdir(), 'turnrelay-pods-certs-'));
  const apps = kc.makeApiClient(AppsV1Api);
  const operatorRan = await apps
    .readNamespacedDeployment({ name: OPERATOR_DEPLOYMENT, namespace: OPERATOR_NAMESPACE })
    .then(() => true)
    .catch(() => false);
  certManager = await startCertManager({ admin: kc, netnsPath: nodeNetns() });
  process.stderr.write(
    `cert-manager: webhook admitting through the API server ${certManager.startupMs} ms after start\n`,
  );
  await useInstalledOperator(kc);
  // An operator started before the cert-manager CRDs existed looks for them
  // again only on its periodic resync: restart it so it watches Certificates.
  if (operatorRan) {
    await kubectl(['rollout', 'restart', `deployment/${OPERATOR_DEPLOYMENT}`, '-n', OPERATOR_NAMESPACE]);
    await kubectl(['rollout', 'status', `deployment/${OPERATOR_DEPLOYMENT}`, '-n', OPERATOR_NAMESPACE, '--timeout=4m']);
  }
  namespace = await createTestNamespace('pods-certs');
}, 600_000);

afterAll(async () => {
  await call?.close().catch(() => undefined);
  await browser?.close();
  await children.stopAll();
  if (namespace) {
    await deleteTestNamespace(namespace);
    await kubectl(['delete', '--ignore-not-found', 'clusterissuer', `selfsigned-${namespace}`]);
    await kubectl(['wait', '--for=delete', `namespace/${namespace}`, '--timeout=2m']).catch(() => undefined);
  }
  await certManager?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 300_000);

test('the API server calls the real webhook, trusting the CA bundle cainjector injected from the webhook CA Secret', async () => {
  const webhookCa = await getJson<{ data: Record<string, string> }>(
    'secret',
    '-n',
    CERT_MANAGER_NAMESPACE,
    'cert-manager-webhook-ca',
  );
  for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
    const config = await getJson<{ webhooks: Array<{ clientConfig: { caBundle?: string } }> }>(
      kind,
      'cert-manager-webhook',
    );
    expect(config.webhooks[0]!.clientConfig.caBundle).toBe(webhookCa.data['ca.crt']);
  }
  // The CRD schema allows any key size; only the webhook knows ECDSA's.
  await expect(
    apply({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'bad-key', namespace },
      spec: {
        secretName: 'bad-key',
        dnsNames: [DNS_NAME],
        issuerRef: { name: 'nobody', kind: 'Issuer' },
        privateKey: { algorithm: 'ECDSA', size: 123 },
      },
    }),
  ).rejects.toThrow(/admission webhook "webhook\.cert-manager\.io" denied the request: spec\.privateKey\.size/);
}, 60_000);

test('a self-signed ClusterIssuer signs a CA Certificate behind a CA Issuer; the TurnRelay Certificate it issues is mounted and served', async () => {
  await apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name: `selfsigned-${namespace}` },
    spec: { selfSigned: {} },
  });
  await apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'test-ca', namespace },
    spec: {
      isCA: true,
      commonName: 'TurnRelay test CA',
      secretName: 'test-ca',
      privateKey: { algorithm: 'ECDSA', size: 256 },
      issuerRef: { name: `selfsigned-${namespace}`, kind: 'ClusterIssuer', group: 'cert-manager.io' },
    },
  });
  await apply({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Issuer',
    metadata: { name: 'test-ca', namespace },
    spec: { ca: { secretName: 'test-ca' } },
  });
  await waitFor(
    'the CA Issuer Ready',
    async () => isReady(await getJson('issuer', '-n', namespace, 'test-ca')),
    90_000,
    500,
  );
  const caSecret = await getJson<{ data: Record<string, string> }>('secret', '-n', namespace, 'test-ca');
  caPem = Buffer.from(caSecret.data['tls.crt']!, 'base64').toString('utf8');
  await writeFile(caFile(), caPem);
  expect(new X509Certificate(caPem).ca).toBe(true);

  await apply({
    apiVersion: 'turnrelay.dev/v1alpha1',
    kind: 'TurnRelay',
    metadata: { name: RELAY, namespace },
    spec: {
      realm: DNS_NAME,
      listeners: [
        { name: 'udp', protocol: 'UDP', port: 3478 },
        { name: 'tls', protocol: 'TLS', port: TLS_PORT },
      ],
      tls: { issuerRef: { name: 'test-ca', kind: 'Issuer' }, dnsNames: [DNS_NAME] },
      network: { mode: 'LoadBalancer', service: { type: 'ClusterIP' } },
      // The echo peer of the renewal test runs on the node's private address.
      peers: { allowCIDRs: [`${nodeIp()}/32`] },
      drain: { gracePeriod: '5s' },
    },
  });
  const relay = await waitFor(
    'the TurnRelay Ready with its certificate',
    async () => {
      const r = await getRelay(rest, namespace, RELAY);
      return condition(r, 'Ready')?.status === 'True' && condition(r, 'CertificateReady')?.status === 'True' && r;
    },
    240_000,
    1000,
  );
  expect(JSON.stringify(relay.status)).toContain(`turns:${DNS_NAME}:${TLS_PORT}`);

  // Issued by the real controller through the CA Issuer; the CertificateRequest
  // carries the requester's identity, which only the mutating webhook sets.
  const certificate = await getJson<Conditions & { spec: { secretName: string; issuerRef: { name: string } } }>(
    'certificate',
    '-n',
    namespace,
    RELAY,
  );
  expect(isReady(certificate)).toBe(true);
  expect(certificate.spec.issuerRef.name).toBe('test-ca');
  const requests = await getJson<{ items: Array<{ spec: { username?: string } }> }>(
    'certificaterequest',
    '-n',
    namespace,
  );
  expect(requests.items.map((r) => r.spec.username)).toContain(
    `system:serviceaccount:${CERT_MANAGER_NAMESPACE}:cert-manager`,
  );

  const services = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace });
  clusterIp = services.items.find((svc) => svc.spec?.ports?.some((p) => p.port === TLS_PORT))!.spec!.clusterIP!;
  const issued = await secretCertificate(certificate.spec.secretName);
  // The relay pod serves that certificate, verified against the test CA for the DNS name.
  const served = await waitFor('the relay serving the issued certificate', () => servedCertificate(), 120_000, 1000);
  expect(served.serialNumber).toBe(issued.serialNumber);
  expect(served.checkIssued(new X509Certificate(caPem))).toBe(true);
}, 400_000);

test('Chromium, trusting the test CA through its NSS database, relays a call over turns: by the DNS name', async () => {
  browser = await launchChromium({
    netnsPath: nodeNetns(),
    trustedCaPem: caPem,
    hostResolverRules: `MAP ${DNS_NAME} ${clusterIp}`,
  });
  const ice = await mintWithCli(namespace, RELAY, 'browser');
  const { username, credential } = ice.iceServers[0]!;
  const url = urlFor(
    ice,
    TRANSPORTS.find((t) => t.name === 'tls')!,
  );
  expect(url).toBe(`turns:${DNS_NAME}:${TLS_PORT}?transport=tcp`);
  // Kept open through the renewal below.
  call = await openTurnCall(browser, {
    iceServer: { urls: url, username, credential },
    marker: 'cert-manager-tls',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  for (const end of [call.connected.a, call.connected.b]) {
    expect(end.local.candidateType).toBe('relay');
    expect(end.local.relayProtocol).toBe('tls');
  }
  await echoesBeyond(20);
}, 120_000);

test('a forced renewal swaps the certificate in the running pod; a TLS allocation opened before it keeps relaying', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const podsBefore = (await core.listNamespacedPod({ namespace })).items.map((pod) => pod.metadata!.uid);
  const before = await servedCertificate();
  const revision = (await getJson<Conditions>('certificate', '-n', namespace, RELAY)).status?.revision;

  const { port: peerPort } = await startEchoPeer(children);
  const ice = await mintWithCli(namespace, RELAY, 'long-tls');
  const { username, credential } = ice.iceServers[0]!;
  // One TLS connection, one message every 400 ms for 40 s: long enough to
  // span issuance and kubelet's volume update (asserted below).
  let clientDone = false;
  const client = runUclient(children, {
    server: { host: clusterIp, port: TLS_PORT },
    transport: 'tls',
    method: 'channel-data',
    auth: { kind: 'long-term', user: username, password: credential },
    peer: { kind: 'echo', host: nodeIp(), port: peerPort },
    sessions: 1,
    messages: 100,
    size: 120,
    intervalMs: 400,
    timeoutMs: 120_000,
    netnsPath: nodeNetns(),
  }).finally(() => (clientDone = true));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(clientDone).toBe(false);

  // What `cmctl renew` does: mark the Certificate for issuance.
  const issuing = {
    type: 'Issuing',
    status: 'True',
    reason: 'ManuallyTriggered',
    message: 'Certificate re-issuance manually triggered',
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  await kubectl([
    'patch',
    'certificate',
    RELAY,
    '-n',
    namespace,
    '--subresource=status',
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'add', path: '/status/conditions/-', value: issuing }]),
  ]);
  const renewed = await waitFor(
    'the relay pod serving the renewed certificate',
    async () => {
      const served = await servedCertificate().catch(() => undefined);
      return served && served.serialNumber !== before.serialNumber && served;
    },
    120_000,
    1000,
  );
  const swappedWhileConnected = !clientDone;
  // The Chromium call opened before the renewal keeps echoing after it.
  await echoesBeyond((await call!.progress()).echoed + 20);

  expect(new Date(renewed.validFrom).getTime()).toBeGreaterThanOrEqual(new Date(before.validFrom).getTime());
  expect(renewed.checkIssued(new X509Certificate(caPem))).toBe(true);
  // rotationPolicy Always: a new key too.
  expect(renewed.publicKey.export({ format: 'der', type: 'spki' })).not.toEqual(
    before.publicKey.export({ format: 'der', type: 'spki' }),
  );
  const certificate = await getJson<Conditions>('certificate', '-n', namespace, RELAY);
  expect(certificate.status?.revision).toBe((revision ?? 0) + 1);

  const { report } = await client;
  expect(swappedWhileConnected).toBe(true);
  expect(report.sent).toBe(100);
  expect(report.received).toBe(100);
  expect(report.lost).toBe(0);

  const podsAfter = (await core.listNamespacedPod({ namespace })).items;
  expect(podsAfter.map((pod) => pod.metadata!.uid)).toEqual(podsBefore);
  for (const pod of podsAfter)
    expect(pod.status!.containerStatuses!.every((status) => status.restartCount === 0)).toBe(true);
}, 300_000);

/** Waits until the Chromium call has echoed more than `count` messages, in order. */
async function echoesBeyond(count: number): Promise<void> {
  await waitFor(
    `more than ${count} echoes on the Chromium call`,
    async () => {
      const progress = await call!.progress();
      if (progress.error) throw new Error(`call broken: ${progress.error}`);
      return progress.echoed > count;
    },
    30_000,
    200,
  );
}

async function secretCertificate(name: string): Promise<X509Certificate> {
  const secret = await getJson<{ data: Record<string, string> }>('secret', '-n', namespace, name);
  return new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
}

const caFile = () => join(workDir, 'ca.pem');

/**
 * The certificate the relay's TLS listener presents (openssl s_client inside
 * the node's namespace, through the Service), after openssl verified it
 * against the test CA for the DNS name; rejects if verification fails.
 */
async function servedCertificate(): Promise<X509Certificate> {
  const [command, args] = inNetns(nodeNetns(), tools.openssl, [
    's_client',
    '-connect',
    `${clusterIp}:${TLS_PORT}`,
    '-servername',
    DNS_NAME,
    '-CAfile',
    caFile(),
    '-verify_hostname',
    DNS_NAME,
    '-verify_return_error',
  ]);
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(command, args, { timeout: 10_000 }, (error, stdout) =>
      error ? reject(new Error(`openssl s_client: ${error.message}\n${stdout}`)) : resolve(stdout),
    );
    child.stdin!.end('');
  });
  if (!out.includes('Verify return code: 0 (ok)')) throw new Error(`not verified:\n${out}`);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out);
  if (!pem) throw new Error(`no certificate in openssl s_client output:\n${out}`);
  return new X509Certificate(pem[0]);
}
