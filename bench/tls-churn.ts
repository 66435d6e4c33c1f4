// Memory under TLS handshake churn: rounds of N TCP connections to the
// relay's TLS port that never send a ClientHello (held, then dropped by the
// client), reading the relay process's RSS after each round. Prints RSS
// before and after every round and the final/initial ratio.
//
//   npx tsx bench/tls-churn.ts [--rounds 5] [--connections 10000] [--repo DIR]
//
// --repo runs the relay from another checkout (e.g. the previous release) to
// compare. Loopback only; not a test: it asserts nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { ChildSet } from '../test/interop/harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from '../test/interop/harness/relay-config-files.js';
import { startRelayProcess } from '../test/interop/harness/relay-process.js';
import { findRepoRoot } from '../test/interop/harness/repo-root.js';
import { randomPortBlock } from '../test/interop/harness/ports.js';
import { sumSamples } from '../test/interop/harness/prometheus-text.js';
import { rssKiB } from './proc-stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10000' },
    hold: { type: 'string', default: '3000' },
    repo: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const holdMs = Number(values.hold);
const repo = values.repo ? `${values.repo.replace(/\/$/, '')}/` : findRepoRoot(import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openSilent(host: string, port: number, count: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      Array.from(
        { length: Math.min(500, count - i) },
        (_, j) =>
          new Promise<void>((resolve) => {
            const n = i + j;
            const s = connect({ host, port, localAddress: `127.201.${(n >> 8) & 0xff}.${n & 0xff || 1}` });
            s.on('error', () => resolve());
            s.once('connect', () => resolve());
            out.push(s);
          }),
      ),
    );
  }
  return out;
}

const children = new ChildSet();
const dir = await mkdtemp(join(tmpdir(), 'turnrelay-tls-churn-'));
try {
  const host = randomLoopbackAddress();
  const { configPath } = await writeRelayFiles({
    dir,
    host,
    listeners: ['udp', 'tls'],
    users: { bench: 'bench-password' },
    portRange: randomPortBlock(),
    allowCIDRs: [],
    logLevel: 'error',
    // Default limits (maxConnections 10000), except per IP: the churn comes from many loopback sources anyway.
    limits: { maxConnectionsPerIp: 0 },
  });
  const relay = await startRelayProcess(
    children,
    {
      file: `${repo}node_modules/.bin/tsx`,
      args: [existsSync(`${repo}cli/turnrelay.ts`) ? `${repo}cli/turnrelay.ts` : `${repo}cli.ts`],
    },
    configPath,
  );
  const pid = relay.child.pid;
  // tsx starts the relay as its own child process: measure that one.
  const { execFileSync } = await import('node:child_process');
  const kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const relayPid = kids[0] ?? pid;
  await sleep(1000);
  const start = rssKiB(relayPid);
  console.log(
    `relay from ${repo} (pid ${relayPid}); ${rounds} rounds of ${connections} handshake-less TLS connections, held ${holdMs} ms`,
  );
  console.log(`round 0: RSS ${(start / 1024).toFixed(0)} MiB`);
  const tlsPort = relay.endpoint('tls').port;
  for (let round = 1; round <= rounds; round++) {
    const t0 = Date.now();
    const sockets = await openSilent(host, tlsPort, connections);
    await sleep(holdMs);
    const open = sumSamples(await relay.metrics(), 'turnrelay_connections', { transport: 'tls' });
    for (const s of sockets) s.destroy();
    await sleep(2000);
    const rss = rssKiB(relayPid);
    const text = await relay.metrics();
    const left = sumSamples(text, 'turnrelay_connections', { transport: 'tls' });
    const heap = sumSamples(text, 'turnrelay_process_nodejs_heap_size_total_bytes') / 2 ** 20;
    const used = sumSamples(text, 'turnrelay_process_nodejs_heap_size_used_bytes') / 2 ** 20;
    console.log(
      `round ${round}: opened ${sockets.length} in ${Date.now() - t0 - holdMs - 2000} ms, relay held ${open}, left after drop ${left}; ` +
        `RSS ${(rss / 1024).toFixed(0)} MiB (JS heap ${used.toFixed(0)} of ${heap.toFixed(0)} MiB)`,
    );
  }
  await sleep(5000);
  const end = rssKiB(relayPid);
  console.log(
    `RSS before ${(start / 1024).toFixed(0)} MiB, after ${(end / 1024).toFixed(0)} MiB (5 s idle), ratio ${(end / start).toFixed(2)}`,
  );
} finally {
  await children.stopAll();
  await rm(dir, { recursive: true, force: true });
}
