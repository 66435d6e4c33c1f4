// coturn's turnutils_uclient against our relay: every client transport, both
// data paths (ChannelData and Send/Data indications), both credential kinds
// (static long-term users and TURN REST secrets), and both peer kinds (the
// turnutils_peer echo server and client-to-client through two allocations).
// Zero loss is required, and the relay's own metrics must have counted the
// relayed packets. Only the relay's loopback address is allow-listed as a peer.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildSet } from './harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from './harness/relay-config-files.js';
import { relayFromSources, startRelayProcess, type RelayProcess } from './harness/relay-process.js';
import { freeUdpPort, randomPortBlock } from './harness/ports.js';
import { sumSamples } from './harness/prometheus-text.js';
import { requireTools } from './harness/tools.js';
import { expectedMessages, runUclient, type ClientTransport, type UclientScenario } from './harness/uclient.js';

const tools = requireTools(['turnutils_uclient', 'turnutils_peer', 'openssl']);
const host = randomLoopbackAddress();
const user = { name: 'interop-alice', password: 'correct horse battery staple' };
// Newest first; the older one still verifies credentials minted before rotation.
const secrets = ['interop-secret-new-5f1c', 'interop-secret-old-9a2e'];

const children = new ChildSet();
let dir: string | undefined;
let relay: RelayProcess | undefined;
let peerPort = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-uclient-'));
  // A separate process through the CLI, so the relay's event loop is not
  // shared with Jest's (uclient over TLS is sensitive to batching, below).
  const { configPath } = await writeRelayFiles({
    dir,
    host,
    listeners: ['udp', 'tcp', 'tls'],
    users: { [user.name]: user.password },
    secrets,
    portRange: randomPortBlock(),
    allowCIDRs: [`${host}/32`],
    logLevel: 'info',
  });
  relay = await startRelayProcess(children, relayFromSources, configPath);
  peerPort = await freeUdpPort(host);
  children.start(tools.turnutils_peer, ['-L', host, '-p', String(peerPort)]);
}, 60_000);

afterAll(async () => {
  await children.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 20_000);

type Variant = Pick<UclientScenario, 'method' | 'auth'> & { peer: 'echo' | 'client-to-client' };

// Covers every pair of (data path, credential kind, peer kind) on each transport.
const variants: Array<[string, Variant]> = [
  [
    'ChannelData, long-term user, echo peer',
    { method: 'channel-data', auth: { kind: 'long-term', user: user.name, password: user.password }, peer: 'echo' },
  ],
  [
    'Send indications, REST secret, echo peer',
    { method: 'send-indication', auth: { kind: 'rest-secret', user: 'rest-bob', secret: secrets[0]! }, peer: 'echo' },
  ],
  [
    'ChannelData, REST secret signed with the older secret, client-to-client',
    {
      method: 'channel-data',
      auth: { kind: 'rest-secret', user: 'rest-carol', secret: secrets[1]! },
      peer: 'client-to-client',
    },
  ],
  [
    'Send indications, long-term user, client-to-client',
    {
      method: 'send-indication',
      auth: { kind: 'long-term', user: user.name, password: user.password },
      peer: 'client-to-client',
    },
  ],
];

describe.each<ClientTransport>(['udp', 'tcp', 'tls'])('turnutils_uclient over %s', (transport) => {
  test.each(variants)(
    '%s: zero loss, counted in metrics',
    (_name, variant) => expectZeroLoss(relay!, transport, variant),
    45_000,
  );
});

// The same UDP runs against a relay on the JavaScript data plane (the default is the native one).
describe('turnutils_uclient over udp, relay.dataPlane: node', () => {
  let nodePlane: RelayProcess | undefined;
  beforeAll(async () => {
    const nodeDir = join(dir!, 'node');
    await mkdir(nodeDir);
    const { configPath } = await writeRelayFiles({
      dir: nodeDir,
      host,
      listeners: ['udp'],
      users: { [user.name]: user.password },
      secrets,
      portRange: randomPortBlock(),
      allowCIDRs: [`${host}/32`],
      logLevel: 'info',
      dataPlane: 'node',
    });
    nodePlane = await startRelayProcess(children, relayFromSources, configPath);
  }, 60_000);

  test.each(variants)(
    '%s: zero loss, counted in metrics',
    (_name, variant) => expectZeroLoss(nodePlane!, 'udp', variant),
    45_000,
  );
});

async function expectZeroLoss(relay: RelayProcess, transport: ClientTransport, variant: Variant): Promise<void> {
  const before = await relay.metrics();
  const scenario: UclientScenario = {
    server: relay.endpoint(transport),
    transport,
    method: variant.method,
    auth: variant.auth,
    peer: variant.peer === 'echo' ? { kind: 'echo', host, port: peerPort } : { kind: 'client-to-client' },
    sessions: 2,
    messages: 25,
    size: 120,
    // uclient reads TLS as one message per SSL_read, without the stream
    // framing RFC 8656 requires: when a busy relay (ours or coturn's) writes
    // several queued ChannelData messages as one TLS record, uclient counts
    // one and reports the rest lost. Slow pacing keeps one message per record.
    intervalMs: transport === 'tls' ? 50 : 5,
    timeoutMs: 30_000,
  };
  const { report } = await runUclient(children, scenario);
  expect(report.lost).toBe(0);
  expect(report.sendDropped).toBe(0);
  expect(report.sent).toBe(expectedMessages(scenario));
  expect(report.received).toBe(expectedMessages(scenario));

  const after = await relay.metrics();
  const delta = (direction: string, metric = 'turnrelay_relayed_packets_total') =>
    sumSamples(after, metric, { transport, direction }) - sumSamples(before, metric, { transport, direction });
  // Each delivered message crossed the relay once towards a peer and once back.
  expect(delta('client_to_peer')).toBeGreaterThanOrEqual(report.received);
  expect(delta('peer_to_client')).toBeGreaterThanOrEqual(report.received);
  expect(delta('client_to_peer', 'turnrelay_relayed_bytes_total')).toBeGreaterThanOrEqual(
    report.received * scenario.size,
  );
  expect(delta('peer_to_client', 'turnrelay_relayed_bytes_total')).toBeGreaterThanOrEqual(
    report.received * scenario.size,
  );
}

// The allow-list above names one address; the rest of loopback keeps the
// default deny, so the same client is refused a peer next door.
test('a loopback peer outside the allow-list is refused with 403 and counted', async () => {
  const before = await relay!.metrics();
  const outside = host.replace(/\.(\d+)$/, (_, last: string) => `.${(Number(last) % 254) + 1}`);
  const run = await children.run(
    tools.turnutils_uclient,
    [
      '-c',
      '-X',
      '-m',
      '1',
      '-n',
      '5',
      '-u',
      user.name,
      '-w',
      user.password,
      '-e',
      outside,
      '-r',
      String(peerPort),
      '-p',
      String(relay!.endpoint('udp').port),
      host,
    ],
    { timeoutMs: 30_000 },
  );
  expect(run.code).not.toBe(0);
  expect(run.stdout).toMatch(/error 403/);
  const after = await relay!.metrics();
  const refusals = (text: string) => sumSamples(text, 'turnrelay_peer_refusals_total', { reason: 'loopback' });
  expect(refusals(after) - refusals(before)).toBeGreaterThanOrEqual(1);
}, 45_000);
