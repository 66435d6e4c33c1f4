// Connections that never authenticate cannot deny service to those that do:
// raw sockets that never start a TLS handshake (or never send STUN on TCP)
// are closed at the first-message deadline, and when they fill the
// connection table the relay closes the oldest of them to admit a new one.
// Meanwhile turnutils_uclient over TLS and TCP is served with zero loss.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { ChildSet } from './harness/children.js';
import { randomLoopbackAddress } from './harness/relay-config-files.js';
import { expectAliveAndServing, HOSTILE_USER, startHostileRelay, type HostileRelay } from './harness/hostile.js';
import { freeUdpPort } from './harness/ports.js';
import { sumSamples } from './harness/prometheus-text.js';
import { requireTools } from './harness/tools.js';
import { expectedMessages, runUclient, type UclientScenario } from './harness/uclient.js';
import { sleep } from '../unit/relay/helpers/test-relay.js';

const tools = requireTools(['turnutils_uclient', 'turnutils_peer', 'openssl']);
const MAX_CONNECTIONS = 60;

/** Opens `count` silent sockets from varying loopback sources (so per-IP limits do not apply). */
async function silentSockets(host: string, port: number, count: number, offset = 0): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<Socket>((resolve) => {
          const n = offset + i;
          const s = connect({ host, port, localAddress: `127.200.${(n >> 8) & 0xff}.${n & 0xff || 1}` });
          s.on('error', () => {});
          s.once('connect', () => resolve(s));
          s.once('close', () => resolve(s));
        }),
    ),
  );
  return sockets;
}

const closedCount = (sockets: Socket[]) => sockets.filter((s) => s.destroyed || s.readableEnded || s.closed).length;

describe('silent connections against the TCP and TLS listeners', () => {
  const children = new ChildSet();
  let dir: string;
  let h: HostileRelay;
  let peerPort: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'turnrelay-flood-'));
    const host = randomLoopbackAddress();
    h = await startHostileRelay(children, {
      dir,
      host,
      dataPlane: 'node',
      limits: { maxConnections: MAX_CONNECTIONS, maxConnectionsPerIp: 0, firstMessageTimeoutSeconds: 3 },
    });
    peerPort = await freeUdpPort(host);
    children.start(tools.turnutils_peer, ['-L', host, '-p', String(peerPort)]);
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await children.stopAll();
    await rm(dir, { recursive: true, force: true });
  }, 20_000);

  test('sockets that never speak are closed at the first-message deadline, on TLS and on TCP', async () => {
    const before = await h.relay.metrics();
    const tls = await silentSockets(h.host, h.relay.endpoint('tls').port, 20);
    const tcp = await silentSockets(h.host, h.relay.endpoint('tcp').port, 20, 100);
    sockets.push(...tls, ...tcp);
    for (const s of [...tls, ...tcp]) s.resume(); // read, so the relay's FIN is seen
    const deadline = Date.now() + 8000;
    while (closedCount([...tls, ...tcp]) < 40 && Date.now() < deadline) await sleep(100);
    expect(closedCount(tls)).toBe(20);
    expect(closedCount(tcp)).toBe(20);
    const after = await h.relay.metrics();
    const timeouts = (t: string) =>
      sumSamples(t, 'turnrelay_connections_closed_total', { reason: 'first_message_timeout' });
    expect(timeouts(after) - timeouts(before)).toBeGreaterThanOrEqual(40);
    expect(sumSamples(after, 'turnrelay_connections')).toBe(0);
    expect(sumSamples(after, 'turnrelay_unauthenticated_connections')).toBe(0);
    await expectAliveAndServing(h);
  }, 30_000);

  test('a full table of pre-handshake TLS sockets: the oldest unauthenticated one makes room, uclient over TLS and TCP loses nothing', async () => {
    const before = await h.relay.metrics();
    const tlsPort = h.relay.endpoint('tls').port;
    // Twice the table, then keep the pressure on while the real clients run.
    sockets.push(...(await silentSockets(h.host, tlsPort, 2 * MAX_CONNECTIONS, 1000)));
    let flooding = true;
    const flood = (async () => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the test clears it while this loop awaits
      for (let round = 0; flooding && round < 200; round++) {
        sockets.push(...(await silentSockets(h.host, tlsPort, 10, 2000 + round * 10)));
        await sleep(50);
      }
    })();
    try {
      for (const transport of ['tls', 'tcp'] as const) {
        const scenario: UclientScenario = {
          server: h.relay.endpoint(transport),
          transport,
          method: 'channel-data',
          auth: { kind: 'long-term', user: HOSTILE_USER.name, password: HOSTILE_USER.password },
          peer: { kind: 'echo', host: h.host, port: peerPort },
          sessions: 2,
          messages: 20,
          size: 100,
          intervalMs: 50,
          timeoutMs: 30_000,
        };
        const { report } = await runUclient(children, scenario);
        expect(report.lost).toBe(0);
        expect(report.received).toBe(expectedMessages(scenario));
      }
    } finally {
      flooding = false;
      await flood;
    }
    const after = await h.relay.metrics();
    const evicted = (t: string) =>
      sumSamples(t, 'turnrelay_connections_closed_total', { reason: 'evicted_unauthenticated' });
    expect(evicted(after) - evicted(before)).toBeGreaterThanOrEqual(MAX_CONNECTIONS);
    expect(sumSamples(after, 'turnrelay_connections')).toBeLessThanOrEqual(MAX_CONNECTIONS);
    await expectAliveAndServing(h);
  }, 60_000);
});
