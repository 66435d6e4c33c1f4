// Usage records and per-user metrics after real turnutils_uclient runs: when
// an allocation ends the relay writes one "allocation ended" line whose byte
// and packet counts match what uclient sent and got back, on both data planes
// (the JavaScript one, and the native one where UDP bytes never reach JS).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildSet } from './harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from './harness/relay-config-files.js';
import { relayFromSources, startRelayProcess, type RelayProcess } from './harness/relay-process.js';
import { freeUdpPort, randomPortBlock } from './harness/ports.js';
import { sumSamples } from './harness/prometheus-text.js';
import { requireTools } from './harness/tools.js';
import { runUclient, type ClientTransport, type UclientScenario } from './harness/uclient.js';
import type { UsageRecord } from '../../relay/usage/usage-record.js';

const tools = requireTools(['turnutils_uclient', 'turnutils_peer']);
const host = randomLoopbackAddress();
const secret = 'usage-secret-3c1d';
const children = new ChildSet();
let dir: string | undefined;
let peerPort = 0;

function usageRecords(relay: RelayProcess, user: string): UsageRecord[] {
  return relay.child
    .stdout()
    .split('\n')
    .filter((line) => line.includes('"msg":"allocation ended"'))
    .map((line) => (JSON.parse(line) as { usage: UsageRecord }).usage)
    .filter((r) => r.user === user);
}

async function startRelay(name: string, dataPlane: 'node' | 'native'): Promise<RelayProcess> {
  const relayDir = join(dir!, name);
  await mkdir(relayDir);
  const { configPath } = await writeRelayFiles({
    dir: relayDir,
    host,
    listeners: ['udp', 'tcp'],
    secrets: [secret],
    portRange: randomPortBlock(),
    allowCIDRs: [`${host}/32`],
    logLevel: 'info',
    dataPlane,
    metrics: { perUserTopK: 3 },
  });
  return startRelayProcess(children, relayFromSources, configPath);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'turnrelay-usage-'));
  peerPort = await freeUdpPort(host);
  children.start(tools.turnutils_peer, ['-L', host, '-p', String(peerPort)]);
}, 30_000);

afterAll(async () => {
  await children.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 20_000);

const scenario = (
  relay: RelayProcess,
  transport: ClientTransport,
  user: string,
  method: UclientScenario['method'],
): UclientScenario => ({
  server: relay.endpoint(transport),
  transport,
  method,
  auth: { kind: 'rest-secret', user, secret },
  peer: { kind: 'echo', host, port: peerPort },
  sessions: 2,
  messages: 30,
  size: 100 + Math.floor(Math.random() * 100),
  intervalMs: 5,
  timeoutMs: 30_000,
});

/** Records of allocations that carried traffic (uclient over TCP also opens and drops empty ones). */
async function waitForRecords(relay: RelayProcess, user: string, count: number): Promise<UsageRecord[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const records = usageRecords(relay, user).filter((r) => r.packetsToPeer + r.packetsToClient > 0);
    if (records.length >= count || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectExactRecords(records: UsageRecord[], s: UclientScenario, expected: Partial<UsageRecord>): void {
  expect(records).toHaveLength(s.sessions);
  for (const r of records) {
    expect(r).toMatchObject({
      ...expected,
      realm: 'interop.turnrelay.test',
      clientFamily: 'ipv4',
      relayedFamily: 'ipv4',
      bytesToPeer: s.messages * s.size,
      bytesToClient: s.messages * s.size,
      packetsToPeer: s.messages,
      packetsToClient: s.messages,
      peers: 1,
    });
    expect(Date.parse(r.start)).toBeLessThanOrEqual(Date.now());
    expect(r.durationSeconds).toBeGreaterThan(0);
  }
}

describe.each(['node', 'native'] as const)('relay.dataPlane: %s', (dataPlane) => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay(dataPlane, dataPlane);
  }, 60_000);

  test('UDP allocations: one usage record each with exact byte counts, the same bytes in the per-user series', async () => {
    const user = `udp-${dataPlane}`;
    const s = scenario(relay, 'udp', user, 'channel-data');
    const { report } = await runUclient(children, s);
    expect(report.lost).toBe(0);
    expect(report.received).toBe(s.sessions * s.messages);
    expectExactRecords(await waitForRecords(relay, user, s.sessions), s, {
      transport: 'udp',
      endReason: 'refresh_lifetime_zero',
    });
    const metrics = await relay.metrics();
    for (const direction of ['client_to_peer', 'peer_to_client']) {
      expect(sumSamples(metrics, 'turnrelay_user_relayed_bytes_total', { user, direction })).toBe(
        s.sessions * s.messages * s.size,
      );
      expect(sumSamples(metrics, 'turnrelay_user_relayed_packets_total', { user, direction })).toBe(
        s.sessions * s.messages,
      );
    }
    // The record is metadata only: no credential or secret in any line.
    expect(relay.child.stdout()).not.toContain(secret);
  }, 60_000);

  test('allocations still open when the relay stops get their record too', async () => {
    const user = `live-${dataPlane}`;
    const s = { ...scenario(relay, 'udp', user, 'channel-data'), sessions: 1, messages: 200, intervalMs: 20 };
    void runUclient(children, s).catch(() => undefined); // cut short by the stop below; afterAll reaps it
    const deadline = Date.now() + 15_000;
    while (
      sumSamples(await relay.metrics(), 'turnrelay_user_relayed_packets_total', { user, direction: 'peer_to_client' }) <
      20
    ) {
      if (Date.now() > deadline) throw new Error('no traffic seen for the live allocation');
      await new Promise((r) => setTimeout(r, 100));
    }
    await relay.close();
    const records = usageRecords(relay, user).filter((r) => r.packetsToPeer > 0);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ endReason: 'server_closing', peers: 1 });
    expect(records[0]!.packetsToPeer).toBeGreaterThanOrEqual(20);
    expect(records[0]!.bytesToPeer).toBe(records[0]!.packetsToPeer * s.size);
    expect(records[0]!.bytesToClient).toBe(records[0]!.packetsToClient * s.size);
  }, 60_000);
});

test('TCP allocations (JavaScript plane), Send indications: the same exact records', async () => {
  const relay = await startRelay('tcp', 'node');
  const user = 'tcp-sender';
  const s = scenario(relay, 'tcp', user, 'send-indication');
  const { report } = await runUclient(children, s);
  expect(report.lost).toBe(0);
  expectExactRecords(await waitForRecords(relay, user, s.sessions), s, {
    transport: 'tcp',
    endReason: 'refresh_lifetime_zero',
  });
  // Ended allocations stay counted in the per-user series.
  const metrics = await relay.metrics();
  expect(sumSamples(metrics, 'turnrelay_user_relayed_bytes_total', { user })).toBe(
    2 * s.sessions * s.messages * s.size,
  );
  await relay.close();
}, 60_000);
