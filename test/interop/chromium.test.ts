// Chromium's WebRTC stack against our relay: two RTCPeerConnections in one
// page, restricted to relay candidates, exchange data-channel messages over
// a TURN allocation on each client transport. getStats() must show that the
// selected pair uses a relay candidate of exactly that transport.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, runTurnPair, type IceServer } from './harness/chromium.js';
import { startTestRelay, type TestRelay } from './harness/our-relay.js';
import { randomPortBlock } from './harness/ports.js';
import { sumSamples } from './harness/prometheus-text.js';
import { randomLoopbackAddress } from './harness/relay-config-files.js';
import { mintRestCredential } from './harness/rest-credential.js';
import { requireTools } from './harness/tools.js';

requireTools(['chromium', 'openssl']);

const host = randomLoopbackAddress();
const secret = randomBytes(24).toString('base64');
const user = { name: 'browser-user', password: randomBytes(12).toString('hex') };
let dir: string | undefined;
let relay: TestRelay | undefined;
let nodeRelay: TestRelay | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-chromium-'));
  const common = { dir, host, users: { [user.name]: user.password }, secrets: [secret], allowCIDRs: [`${host}/32`] };
  relay = await startTestRelay({ ...common, listeners: ['udp', 'tcp', 'tls'], portRange: randomPortBlock() });
  // The same browsers through the JavaScript data plane (the default is the native one).
  nodeRelay = await startTestRelay({
    ...common,
    listeners: ['udp', 'tcp'],
    portRange: randomPortBlock(),
    dataPlane: 'node',
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await nodeRelay?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 20_000);

function iceServer(target: TestRelay, transport: 'udp' | 'tcp' | 'tls'): IceServer {
  const { host: h, port } = target.endpoint(transport);
  const urls = transport === 'tls' ? `turns:${h}:${port}?transport=tcp` : `turn:${h}:${port}?transport=${transport}`;
  // TCP uses the static user; UDP and TLS use ephemeral REST credentials.
  if (transport === 'tcp') return { urls, username: user.name, credential: user.password };
  return { urls, ...mintRestCredential(secret, 'browser', 600) };
}

async function expectDataChannelThrough(target: TestRelay, transport: 'udp' | 'tcp' | 'tls'): Promise<void> {
  const before = await target.metrics();
  const messages = 100;
  const result = await runTurnPair(browser!, {
    iceServer: iceServer(target, transport),
    messages,
    marker: `msg-${transport}`,
    timeoutMs: 30_000,
  });
  expect(result.echoes).toBe(messages);
  for (const end of [result.a, result.b]) {
    // The selected pair carried the data (its state may read in-progress
    // while a consent-freshness check is in flight, so it is not asserted).
    expect(end.bytesSent).toBeGreaterThan(0);
    expect(end.bytesReceived).toBeGreaterThan(0);
    expect(end.local.candidateType).toBe('relay');
    expect(end.local.relayProtocol).toBe(transport);
    expect(end.remote.candidateType).toBe('relay');
  }
  const after = await target.metrics();
  const plaintextBytes = 2 * [...Array(messages).keys()].reduce((n, i) => n + `msg-${transport}:${i}`.length, 0);
  for (const direction of ['client_to_peer', 'peer_to_client']) {
    const delta = (metric: string) =>
      sumSamples(after, metric, { transport, direction }) - sumSamples(before, metric, { transport, direction });
    expect(delta('turnrelay_relayed_packets_total')).toBeGreaterThan(0);
    // Every message and its echo crossed the relay once in each direction,
    // encrypted (DTLS/SCTP never shrink it); SCTP may bundle, so bytes, not packets.
    expect(delta('turnrelay_relayed_bytes_total')).toBeGreaterThanOrEqual(plaintextBytes);
  }
}

test.each(['udp', 'tcp', 'tls'] as const)(
  'data channel over a %s relay allocation',
  (transport) => expectDataChannelThrough(relay!, transport),
  60_000,
);

test.each(['udp', 'tcp'] as const)(
  'data channel over a %s relay allocation, relay.dataPlane: node',
  (transport) => expectDataChannelThrough(nodeRelay!, transport),
  60_000,
);
