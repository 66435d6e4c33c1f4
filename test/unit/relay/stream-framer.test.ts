// Stream framing over TCP/TLS: STUN and padded ChannelData back to back,
// split and coalesced arbitrarily, bounded buffering, garbage rejected.
import fc from 'fast-check';
import { MessageClass, Method, AttributeType } from '../../../relay/stun/constants.js';
import { StunMessageBuilder } from '../../../relay/stun/message.js';
import { encodeChannelData } from '../../../relay/stun/channel-data.js';
import { FramingError, MAX_FRAME, StreamFramer } from '../../../relay/stun/stream-framer.js';

const stunFrame = fc
  .tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 100 }))
  .map(([t, v]) =>
    new StunMessageBuilder(Method.Send, MessageClass.Indication, Buffer.from(t))
      .add(AttributeType.Data, Buffer.from(v))
      .build(),
  );
const channelFrame = fc
  .tuple(fc.integer({ min: 0x4000, max: 0x7fff }), fc.uint8Array({ maxLength: 300 }))
  .map(([c, d]) => encodeChannelData(c, Buffer.from(d), true));

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('StreamFramer', () => {
  test('recovers every frame however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(stunFrame, channelFrame), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const got: Buffer[] = [];
          const framer = new StreamFramer((f) => got.push(Buffer.from(f)));
          for (const chunk of splitAt(Buffer.concat(frames), cuts)) framer.push(Buffer.from(chunk));
          expect(got).toEqual(frames);
          expect(framer.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('byte-by-byte delivery works and emitted frames are not overwritten later', () => {
    const a = encodeChannelData(0x4001, Buffer.from('hello'), true);
    const b = encodeChannelData(0x4002, Buffer.from('world!!'), true);
    const got: Buffer[] = [];
    const framer = new StreamFramer((f) => got.push(f));
    for (const byte of Buffer.concat([a, b])) framer.push(Buffer.from([byte]));
    expect(got).toEqual([a, b]);
  });

  test('garbage (first bits 10/11 or a bad cookie) is a framing error', () => {
    expect(() => new StreamFramer(() => {}).push(Buffer.from([0x80, 0, 0, 4, 1, 2, 3, 4]))).toThrow(FramingError);
    const bad = Buffer.alloc(20);
    bad.writeUInt16BE(0x0001, 0);
    expect(() => new StreamFramer(() => {}).push(bad)).toThrow(FramingError);
  });

  test('maximum-size STUN and ChannelData frames split across chunks are reassembled', () => {
    const stun = new StunMessageBuilder(Method.Send, MessageClass.Indication, Buffer.alloc(12, 1))
      .add(AttributeType.Data, Buffer.alloc(65528, 9))
      .build();
    expect(stun.length).toBe(MAX_FRAME);
    const channel = encodeChannelData(0x4000, Buffer.alloc(65535, 3), true);
    const got: Buffer[] = [];
    const framer = new StreamFramer((f) => got.push(f));
    const all = Buffer.concat([stun, channel]);
    for (let i = 0; i < all.length; i += 1000) framer.push(all.subarray(i, i + 1000));
    expect(got).toEqual([stun, channel]);
  });

  test('buffering never exceeds one maximum frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { maxLength: 30 }), (chunks) => {
        const framer = new StreamFramer(() => {});
        try {
          for (const c of chunks) {
            framer.push(Buffer.from(c));
            expect(framer.bufferedBytes).toBeLessThanOrEqual(MAX_FRAME);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(FramingError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
