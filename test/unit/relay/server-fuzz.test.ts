// Fuzzing a running relay on each data plane over UDP and TCP: random bytes, mutated valid
// messages, and correctly signed requests with random attributes (which get
// past authentication into the method handlers). The relay must never crash
// or hit an internal error, must answer malformed requests 400 (or drop
// them), and its tables must stay bounded.
import fc from 'fast-check';
import { connect as tcpConnect } from 'node:net';
import { AttributeType, MessageClass, Method } from '../../../relay/stun/constants.js';
import { encodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { encodeChannelData } from '../../../relay/stun/channel-data.js';
import {
  CLIENT_OWN_ATTRIBUTES,
  errorCodeOf,
  RANDOM_ATTRIBUTE_TYPES,
  TurnTestClient,
} from './helpers/turn-test-client.js';
import {
  metricsText,
  metricValue,
  PASSWORD,
  sleep,
  startTestRelay,
  USER,
  type TestRelay,
} from './helpers/test-relay.js';

const attrType = fc.oneof(
  fc.constantFrom(...RANDOM_ATTRIBUTE_TYPES),
  fc.integer({ min: 0, max: 0xffff }).filter((t) => !CLIENT_OWN_ATTRIBUTES.includes(t)),
);
const attrValue = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc
    .tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 }))
    .map(([address, port]) => encodeXorAddress({ address, port }, Buffer.alloc(12))),
  fc.constantFrom(
    Buffer.from([17, 0, 0, 0]),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from([2, 0, 0, 0]),
    Buffer.from([0x40, 0x00, 0, 0]),
    Buffer.from([0x80]),
    Buffer.alloc(8),
  ),
);
const method = fc.constantFrom(
  Method.Binding,
  Method.Allocate,
  Method.Refresh,
  Method.CreatePermission,
  Method.ChannelBind,
  Method.Send,
  Method.Data,
  0x0ff,
);

async function internalErrors(t: TestRelay): Promise<number> {
  return metricValue(await metricsText(t.relay), 'turnrelay_errors_total{kind="internal"}');
}

async function stillServes(t: TestRelay): Promise<void> {
  const c = await TurnTestClient.udp(t.port('udp'));
  try {
    const res = await c.transact(c.build(Method.Binding, []));
    expect(res.cls).toBe(MessageClass.SuccessResponse);
  } finally {
    c.close();
  }
}

// Both data planes: ChannelData and Send from an authenticated client reach whichever plane forwards them.
describe.each(['native', 'node'] as const)('fuzzing a running relay (%s data plane)', (dataPlane) => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({
      relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 }, dataPlane },
      limits: {
        unauthenticatedResponsesPerSecond: 100_000,
        maxAllocationsPerUser: 3,
        maxPermissionsPerAllocation: 8,
        maxChannelsPerAllocation: 8,
      },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('signed requests with random attributes reach the handlers and get a non-5xx answer', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    await c.allocate(USER, PASSWORD); // picks up realm and nonce
    await c.refresh(0);
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(method, fc.array(fc.tuple(attrType, attrValue), { maxLength: 6 }), async (m, attrs) => {
        const buf = c.build(m, attrs, { authenticated: true });
        if (m === Method.Send || m === Method.Data) {
          c.sendRaw(buf);
          return;
        }
        const res = await c.transact(buf, 2000);
        const code = errorCodeOf(res);
        codes.set(String(code ?? 'success'), (codes.get(String(code ?? 'success')) ?? 0) + 1);
        if (code !== undefined) expect(code).toBeLessThan(500);
      }),
      { numRuns: 400, endOnFailure: true },
    );
    // The requests really got past authentication: handlers answered with successes and handler errors.
    expect(codes.get('success') ?? 0).toBeGreaterThan(10);
    expect((codes.get('400') ?? 0) + (codes.get('437') ?? 0)).toBeGreaterThan(10);
    expect(codes.get('401') ?? 0).toBe(0);
    // Also random ChannelData on whatever channels may exist.
    for (let i = 0; i < 200; i++) c.sendChannelData(0x4000 + (i % 16), Buffer.alloc(i));
    c.close();
    expect(await internalErrors(t)).toBe(0);
    expect(t.relay.turn.ctx.allocations.size).toBeLessThanOrEqual(3);
    for (const a of t.relay.turn.ctx.allocations.values()) {
      expect(a.permissions.size).toBeLessThanOrEqual(8);
      expect(a.channels.size).toBeLessThanOrEqual(8);
    }
    await stillServes(t);
  });

  test('random and mutated datagrams: dropped or answered 400, never a crash', async () => {
    const c = await TurnTestClient.udp(t.port('udp'));
    const seed = [
      c.build(Method.Binding, []),
      c.build(Method.Allocate, [[AttributeType.RequestedTransport, Buffer.from([17, 0, 0, 0])]]),
      c.build(Method.Send, [[AttributeType.Data, Buffer.from('x')]], { cls: MessageClass.Indication }),
      encodeChannelData(0x4001, Buffer.from('payload'), false),
    ];
    const datagram = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc
        .tuple(
          fc.constantFrom(...seed),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
          fc.nat(),
        )
        .map(([s, edits, cut]) => {
          const m = Buffer.from(s);
          for (const [i, v] of edits) m[i % m.length] = v;
          return m.subarray(0, Math.max(1, cut % (m.length + 1)));
        }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(datagram, { minLength: 1, maxLength: 20 }), (batch) => {
        for (const d of batch) c.sendRaw(d);
        return Promise.resolve();
      }),
      { numRuns: 300, endOnFailure: true },
    );
    await sleep(300);
    for (const r of c.inbox.splice(0)) {
      if (r.kind !== 'stun') continue;
      const { decodeStunMessage } = await import('../../../relay/stun/message.js');
      const m = decodeStunMessage(r.buf);
      if (m.cls === MessageClass.ErrorResponse) expect([400, 401, 420]).toContain(errorCodeOf(m));
    }
    c.close();
    expect(await internalErrors(t)).toBe(0);
    expect(t.relay.turn.cachedResponses).toBeLessThanOrEqual(100_000);
    await stillServes(t);
  });

  test('random byte streams over TCP: bad streams are closed, the relay keeps serving, no connection leaks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 400 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (chunks, prefixValid) => {
          const socket = tcpConnect({ port: t.port('tcp'), host: '127.0.0.1' });
          socket.on('error', () => {});
          await new Promise<void>((r) => socket.once('connect', () => r()));
          if (prefixValid) socket.write(encodeChannelData(0x4000, Buffer.from('abc'), true));
          for (const chunk of chunks) socket.write(Buffer.from(chunk));
          await sleep(5);
          socket.destroy();
        },
      ),
      { numRuns: 150, endOnFailure: true },
    );
    await sleep(200);
    const text = await metricsText(t.relay);
    expect(metricValue(text, 'turnrelay_connections{transport="tcp"}')).toBe(0);
    expect(await internalErrors(t)).toBe(0);
    await stillServes(t);
  });
});
