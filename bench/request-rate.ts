// Control-plane request rate: clients that each hold an allocation send
// CreatePermission requests back to back (a new one as soon as the last one is
// answered) for a few seconds, against coturn and our relay (1 thread each),
// and the answered requests per second are printed side by side. Every request
// is authenticated (MESSAGE-INTEGRITY both ways, a nonce check) and changes the
// data plane's tables. A diagnostic, not part of `npm run bench`.
//
//   node dist/bench/request-rate.js [--clients 8] [--seconds 4] [--coalesce MICROS]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildSet } from '../test/interop/harness/children.js';
import { isSuccess, TurnTestClient } from '../test/unit/relay/helpers/turn-test-client.js';
import { cpuMicrosSince, cpuSample } from './proc-stats.js';
import { benchUser, startCoturnProcess, startOurRelayProcess, type ServerUnderTest } from './servers.js';

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const clients = flag('--clients', 8);
const seconds = flag('--seconds', 4);
// Our relay's relay.coalesceMicros; absent: its default.
const coalesceMicros = process.argv.includes('--coalesce') ? flag('--coalesce', 0) : undefined;

async function requestsPerSecond(server: ServerUnderTest): Promise<{ perSecond: number; cpuMicros: number }> {
  const cs = await Promise.all(Array.from({ length: clients }, () => TurnTestClient.udp(server.port, server.host)));
  try {
    for (const c of cs)
      if (!isSuccess(await c.allocate(benchUser.name, benchUser.password)))
        throw new Error(`${server.name}: Allocate failed`);
    let answered = 0;
    const before = cpuSample(server.pid);
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      cs.map(async (c, k) => {
        while (performance.now() < end) {
          if (!isSuccess(await c.createPermission({ address: server.host, port: 5000 + k })))
            throw new Error(`${server.name}: CreatePermission failed`);
          answered++;
        }
      }),
    );
    const cpuMicros = cpuMicrosSince(before) / answered;
    for (const c of cs) await c.refresh(0);
    return { perSecond: answered / seconds, cpuMicros };
  } finally {
    for (const c of cs) c.close();
  }
}

const children = new ChildSet();
const dir = await mkdtemp(join(tmpdir(), 'turnrelay-request-rate-'));
try {
  const rates: Record<string, number> = {};
  for (const kind of ['coturn', 'turnrelay'] as const) {
    await mkdir(join(dir, kind));
    const options = { dir: join(dir, kind), host: '127.0.0.1', portRange: { min: 40000, max: 49999 } };
    const server =
      kind === 'coturn'
        ? await startCoturnProcess(children, { ...options, relayThreads: 1 })
        : await startOurRelayProcess(children, {
            ...options,
            threads: 1,
            ...(coalesceMicros !== undefined ? { coalesceMicros } : {}),
          });
    const { perSecond, cpuMicros } = await requestsPerSecond(server);
    rates[kind] = perSecond;
    await children.stopAll();
    console.log(
      `${kind}: ${perSecond.toFixed(0)} CreatePermission requests/s (${clients} clients, ${seconds} s), server CPU ${cpuMicros.toFixed(1)} µs per request`,
    );
  }
  console.log(`ours/coturn: ${((rates.turnrelay ?? 0) / (rates.coturn ?? 1)).toFixed(2)}x`);
} finally {
  await children.stopAll();
  await rm(dir, { recursive: true, force: true });
}
