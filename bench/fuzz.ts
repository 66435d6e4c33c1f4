// Structure-aware fuzzing of a relay process from an authenticated client
// (real allocation, permission and channel; valid MESSAGE-INTEGRITY): signed
// requests with random attributes, ChannelData with random channels and
// lying lengths, and mutated datagrams, over UDP. Reports crashes (process
// exits), handler errors, RSS before/after and throughput.
//
//   npx tsx bench/fuzz.ts [--inputs 1000000] [--plane node|native]
//
// Loopback only; not a test: it asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ChildSet } from '../test/interop/harness/children.js';
import { randomLoopbackAddress, writeRelayFiles } from '../test/interop/harness/relay-config-files.js';
import { relayFromSources, startRelayProcess } from '../test/interop/harness/relay-process.js';
import { randomPortBlock } from '../test/interop/harness/ports.js';
import { sumSamples } from '../test/interop/harness/prometheus-text.js';
import {
  AttributeType,
  Method,
  MessageClass,
  RANDOM_ATTRIBUTE_TYPES,
  TurnTestClient,
} from '../test/unit/relay/helpers/turn-test-client.js';
import { encodeXorAddress } from '../relay/stun/attributes/xor-address.js';
import { rssKiB } from './proc-stats.js';

const { values } = parseArgs({
  options: { inputs: { type: 'string', default: '1000000' }, plane: { type: 'string', default: 'node' } },
});
const total = Number(values.inputs);
const plane = values.plane === 'native' ? 'native' : 'node';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METHODS = [
  Method.Binding,
  Method.Allocate,
  Method.Refresh,
  Method.CreatePermission,
  Method.ChannelBind,
  Method.Send,
  0x0ff,
];
const pick = <T>(a: readonly T[]): T => a[Math.floor(Math.random() * a.length)]!;

const children = new ChildSet();
const dir = await mkdtemp(join(tmpdir(), 'turnrelay-fuzz-'));
try {
  const host = randomLoopbackAddress();
  const { configPath } = await writeRelayFiles({
    dir,
    host,
    listeners: ['udp'],
    users: { fuzz: 'fuzz-password' },
    portRange: randomPortBlock(),
    allowCIDRs: [`${host}/32`],
    logLevel: 'error',
    dataPlane: plane,
    limits: { unauthenticatedResponsesPerSecond: 1_000_000, maxAllocationsPerUser: 50 },
  });
  const relay = await startRelayProcess(children, relayFromSources, configPath);
  const kids = execFileSync('pgrep', ['-P', String(relay.child.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const pid = kids[0] ?? relay.child.pid;
  const port = relay.endpoint('udp').port;
  const peer = { address: host, port: 9 };
  const c = await TurnTestClient.udp(port, host);
  await c.allocate('fuzz', 'fuzz-password');
  await c.createPermission(peer);
  await c.channelBind(0x4000, peer);
  await sleep(500);
  const rssBefore = rssKiB(pid);
  const start = Date.now();
  let sent = 0;
  while (sent < total) {
    for (let i = 0; i < 200 && sent < total; i++, sent++) {
      const kind = sent % 3;
      if (kind === 0) {
        const tid = randomBytes(12);
        const attrs: Array<[number, Buffer]> = Array.from({ length: Math.floor(Math.random() * 5) }, () => [
          Math.random() < 0.8 ? pick(RANDOM_ATTRIBUTE_TYPES) : Math.floor(Math.random() * 0x10000),
          Math.random() < 0.3
            ? encodeXorAddress({ address: host, port: Math.floor(Math.random() * 3) }, tid)
            : randomBytes(Math.floor(Math.random() * 24)),
        ]);
        const m = pick(METHODS);
        c.sendRaw(
          c.build(m, attrs, {
            authenticated: true,
            tid,
            cls: m === Method.Send ? MessageClass.Indication : MessageClass.Request,
          }),
        );
      } else if (kind === 1) {
        const len = Math.floor(Math.random() * 40);
        const b = randomBytes(len + 4);
        b.writeUInt16BE(0x4000 + Math.floor(Math.random() * 0x4000), 0);
        b.writeUInt16BE(Math.random() < 0.5 ? len : Math.floor(Math.random() * 0x10000), 2);
        c.sendRaw(b.subarray(0, Math.random() < 0.1 ? Math.floor(Math.random() * 4) + 1 : b.length));
      } else {
        const b = c.build(Method.Refresh, [[AttributeType.Lifetime, randomBytes(4)]], { authenticated: true });
        for (let k = 0; k < 3; k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
        c.sendRaw(b.subarray(0, Math.max(1, Math.floor(Math.random() * (b.length + 1)))));
      }
    }
    c.inbox.length = 0;
    await sleep(1); // let the loopback socket drain
    if (sent % 100_000 === 0 && relay.child.process.exitCode !== null) break;
  }
  const seconds = (Date.now() - start) / 1000;
  await sleep(2000);
  const alive = relay.child.process.exitCode === null && relay.child.process.signalCode === null;
  const rssAfter = alive ? rssKiB(pid) : 0;
  const text = alive ? await relay.metrics() : '';
  const probe = await TurnTestClient.udp(port, host);
  const serving =
    alive &&
    (await probe.transact(probe.build(Method.Binding, []), 3000).then(
      () => true,
      () => false,
    ));
  probe.close();
  c.close();
  console.log(
    `plane ${plane}: ${sent} inputs in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); crashes ${alive ? 0 : 1}; serving after: ${serving}`,
  );
  console.log(
    `handler errors ${sumSamples(text, 'turnrelay_errors_total', { kind: 'handler' })}, internal errors ${sumSamples(text, 'turnrelay_errors_total', { kind: 'internal' })}`,
  );
  console.log(`RSS before ${(rssBefore / 1024).toFixed(0)} MiB, after ${(rssAfter / 1024).toFixed(0)} MiB`);
} finally {
  await children.stopAll();
  await rm(dir, { recursive: true, force: true });
}
