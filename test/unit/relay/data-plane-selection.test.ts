// Which data plane a relay runs (relay.dataPlane): native by default when the
// addon is built, 'node' on request, a startup error for 'native' without the
// addon, and one warning plus the JavaScript plane for a default start
// without it; the JavaScript plane warns about the native-only settings it
// ignores. Real relays on loopback; the addon is "missing" by pointing
// TURNRELAY_NATIVE_ADDON at a path that does not exist.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RelayConfigSchema } from '../../../relay/config/schema.js';
import { startRelay } from '../../../relay/main.js';
import { nativeAddonExists } from '../../../relay/dataplane/native/native-addon.js';
import { DEFAULT_COALESCE_MICROS } from '../../../relay/dataplane/native/native-data-plane.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { isSuccess, Method, TurnTestClient } from './helpers/turn-test-client.js';
import { metricsText, metricValue, PASSWORD, sleep, startPeer, startTestRelay, USER } from './helpers/test-relay.js';

const MISSING = '/nonexistent/turnrelay_dataplane.node';

let usersFile: string;
beforeAll(async () => {
  usersFile = join(await mkdtemp(join(tmpdir(), 'turnrelay-plane-')), 'users');
  await writeFile(usersFile, `${USER}:${PASSWORD}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dirname(usersFile), { recursive: true, force: true });
});

function minimalConfig(relay: Record<string, unknown> = {}) {
  return RelayConfigSchema.parse({
    listeners: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, ...relay },
    peers: { allowCIDRs: ['127.0.0.0/8'] },
    auth: { usersFile },
    admin: { host: '127.0.0.1', port: 0 },
  });
}

async function withAddonPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env['TURNRELAY_NATIVE_ADDON'];
  process.env['TURNRELAY_NATIVE_ADDON'] = path;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env['TURNRELAY_NATIVE_ADDON'];
    else process.env['TURNRELAY_NATIVE_ADDON'] = before;
  }
}

test('the addon is built for these tests (npm test builds it first)', () => {
  expect(nativeAddonExists()).toBe(true);
});

test('a config without relay.dataPlane runs the native plane, on relay.threads threads, and relays', async () => {
  const t = await startTestRelay({ relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, threads: 2 } });
  const c = await TurnTestClient.udp(t.port('udp'));
  const peer = await startPeer();
  try {
    expect(t.relay.turn.ctx.dataPlane).toMatchObject({ name: 'native', threads: 2 });
    expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
    c.sendChannelData(0x4001, Buffer.from('default plane'));
    expect((await peer.next()).data.toString()).toBe('default plane');
  } finally {
    c.close();
    peer.close();
    await t.stop();
  }
});

test('relay.dataPlane: node runs the JavaScript plane even though the addon exists', async () => {
  const t = await startTestRelay({
    relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, dataPlane: 'node' },
  });
  try {
    expect(t.relay.turn.ctx.dataPlane).toMatchObject({ name: 'node', threads: 1 });
  } finally {
    await t.stop();
  }
});

test('relay.coalesceMicros reaches the native plane (absent: the default)', async () => {
  for (const [coalesceMicros, expected] of [
    [undefined, DEFAULT_COALESCE_MICROS],
    [0, 0],
    [2000, 2000],
  ] as const) {
    const relay = { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, threads: 1 };
    const t = await startTestRelay({ relay: coalesceMicros === undefined ? relay : { ...relay, coalesceMicros } });
    try {
      expect(t.relay.turn.ctx.dataPlane).toMatchObject({ name: 'native', coalesceMicros: expected });
    } finally {
      await t.stop();
    }
  }
  expect(DEFAULT_COALESCE_MICROS).toBeGreaterThan(0);
});

test('at the longest coalescing pause bursts are relayed whole both ways, and sparse datagrams too', async () => {
  const t = await startTestRelay({
    relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, threads: 1, coalesceMicros: 10000 },
  });
  const c = await TurnTestClient.udp(t.port('udp'));
  const peer = await startPeer();
  const burst = 150;
  // Sends `burst` numbered datagrams one way and returns what the other end received, in order.
  const relayBurst = async (label: string, send: (data: Buffer) => void, next: () => Promise<Buffer>) => {
    for (let i = 0; i < burst; i++) send(Buffer.from(`${label} ${i}`));
    const got: string[] = [];
    for (let i = 0; i < burst; i++) got.push((await next()).toString());
    return got;
  };
  const numbered = (label: string) => Array.from({ length: burst }, (_, i) => `${label} ${i}`);
  try {
    const res = await c.allocate(USER, PASSWORD);
    expect(isSuccess(res)).toBe(true);
    expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
    const toPeer = (data: Buffer) => c.sendChannelData(0x4001, data);
    const atPeer = async () => (await peer.next()).data;
    expect(await relayBurst('up', toPeer, atPeer)).toEqual(numbered('up'));
    const relayed = c.relayedAddress(res);
    const toClient = (data: Buffer) => peer.socket.send(data, relayed.port, relayed.address);
    const atClient = async () => (await c.nextData()).data;
    expect(await relayBurst('down', toClient, atClient)).toEqual(numbered('down'));
    // Datagrams further apart than the pause: each pause finds nothing and pauses back off.
    for (let i = 0; i < 12; i++) {
      c.sendChannelData(0x4001, Buffer.from(`sparse ${i}`));
      expect((await peer.next()).data.toString()).toBe(`sparse ${i}`);
      await sleep(15);
    }
    // A burst after the back-off still arrives whole.
    expect(await relayBurst('again', toPeer, atPeer)).toEqual(numbered('again'));
  } finally {
    c.close();
    peer.close();
    await t.stop();
  }
});

test('STUN requests and sparse ChannelData never start a coalescing pause; steady ChannelData does, and the metric counts it', async () => {
  const t = await startTestRelay({
    relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, threads: 1, coalesceMicros: 10000 },
  });
  const c = await TurnTestClient.udp(t.port('udp'));
  const peer = await startPeer();
  const pauses = async () => {
    const text = await metricsText(t.relay);
    expect(text).toMatch(/^turnrelay_coalesce_pauses_total \d+$/m);
    return metricValue(text, 'turnrelay_coalesce_pauses_total');
  };
  try {
    // Each of these is a wakeup that received only STUN: a pause after it would hold back the next one.
    expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    expect(isSuccess(await c.createPermission(peer))).toBe(true);
    expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
    for (let i = 0; i < 20; i++) expect(isSuccess(await c.transact(c.build(Method.Binding, [])))).toBe(true);
    expect(isSuccess(await c.refresh(600))).toBe(true);
    expect(await pauses()).toBe(0);
    // About 33 datagrams/s: a 10 ms pause would gather none of the next, so none is taken.
    for (let i = 0; i < 12; i++) {
      c.sendChannelData(0x4001, Buffer.from(`sparse ${i}`));
      expect((await peer.next()).data.toString()).toBe(`sparse ${i}`);
      await sleep(30);
    }
    expect(await pauses()).toBe(0);
    // Bursts of 5 every few ms (over 200/s) predict several datagrams per pause: pauses start.
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 5; i++) c.sendChannelData(0x4001, Buffer.from(`steady ${round}.${i}`));
      for (let i = 0; i < 5; i++) expect((await peer.next()).data.toString()).toBe(`steady ${round}.${i}`);
      await sleep(5);
    }
    // A pause is counted when it ends.
    const deadline = Date.now() + 5000;
    while ((await pauses()) === 0 && Date.now() < deadline) await sleep(20);
    expect(await pauses()).toBeGreaterThan(0);
  } finally {
    c.close();
    peer.close();
    await t.stop();
  }
});

test('relay.dataPlane: native without the addon fails at startup and says how to build it', async () => {
  const { log, lines } = recordingLogger();
  await withAddonPath(MISSING, async () => {
    await expect(startRelay({ config: minimalConfig({ dataPlane: 'native' }), log })).rejects.toThrow(
      /not built .*run `npm run build:native` \(needs g\+\+\)/,
    );
  });
  expect(lines).toEqual([]);
});

test('a default start without the addon warns once and relays on the JavaScript plane', async () => {
  const { log, lines } = recordingLogger();
  await withAddonPath(MISSING, async () => {
    const relay = await startRelay({ config: minimalConfig(), log });
    const port = relay.listeners.find((l) => l.protocol === 'udp')!.port;
    const c = await TurnTestClient.udp(port);
    const peer = await startPeer();
    try {
      expect(relay.turn.ctx.dataPlane.name).toBe('node');
      expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
      expect(isSuccess(await c.channelBind(0x4001, peer))).toBe(true);
      c.sendChannelData(0x4001, Buffer.from('fallback plane'));
      expect((await peer.next()).data.toString()).toBe('fallback plane');
    } finally {
      c.close();
      peer.close();
      await relay.close();
    }
  });
  const warnings = lines.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.msg).toMatch(/native data plane is not built.*npm run build:native/);
});

test('relay.dataPlane: node with native-only settings warns that it ignores them, and relays', async () => {
  const { log, lines } = recordingLogger();
  const relay = await startRelay({
    config: minimalConfig({ dataPlane: 'node', threads: 2, coalesceMicros: 500 }),
    log,
  });
  try {
    expect(relay.turn.ctx.dataPlane).toMatchObject({ name: 'node', threads: 1 });
    const c = await TurnTestClient.udp(relay.listeners.find((l) => l.protocol === 'udp')!.port);
    try {
      expect(isSuccess(await c.allocate(USER, PASSWORD))).toBe(true);
    } finally {
      c.close();
    }
  } finally {
    await relay.close();
  }
  const warnings = lines.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ ignored: ['relay.threads', 'relay.coalesceMicros'] });
  expect(warnings[0]!.msg).toMatch(/JavaScript plane ignores relay\.threads and relay\.coalesceMicros/);
  const started = lines.find((l) => l.msg === 'relay started');
  expect(started).toMatchObject({ dataPlane: 'node', threads: 1 });
  expect(started).not.toHaveProperty('coalesceMicros');
});

test('the "relay started" line reports the native plane\'s threads and coalescing pause', async () => {
  const { log, lines } = recordingLogger();
  const relay = await startRelay({ config: minimalConfig({ threads: 2, coalesceMicros: 2000 }), log });
  await relay.close();
  expect(lines.find((l) => l.msg === 'relay started')).toMatchObject({
    dataPlane: 'native',
    threads: 2,
    coalesceMicros: 2000,
  });
});

test('relay.dataPlane: node without native-only settings starts without a warning', async () => {
  const { log, lines } = recordingLogger();
  const relay = await startRelay({ config: minimalConfig({ dataPlane: 'node' }), log });
  await relay.close();
  expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
});

test('a default start without the addon names the native-only settings it ignores in its one warning', async () => {
  const { log, lines } = recordingLogger();
  await withAddonPath(MISSING, async () => {
    const relay = await startRelay({ config: minimalConfig({ coalesceMicros: 0 }), log });
    expect(relay.turn.ctx.dataPlane.name).toBe('node');
    await relay.close();
  });
  const warnings = lines.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ ignored: ['relay.coalesceMicros'] });
  expect(warnings[0]!.msg).toMatch(/native data plane is not built.*JavaScript plane ignores relay\.coalesceMicros$/);
});
