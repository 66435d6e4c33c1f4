// The addon checks create()'s numbers itself: JavaScript other than the relay's
// (a bench, a test) reaches it without the config schema in between, and an
// out-of-range thread count or pause must be refused, not clamped or run.
import { loadNativeAddon } from '../../../relay/dataplane/native/native-addon.js';

const addon = loadNativeAddon();
const noop = () => {};

test.each([
  [0, 1000, 'threads must be between 1 and 1024'],
  [1025, 1000, 'threads must be between 1 and 1024'],
  [1, -1, 'coalesceMicros must be between 0 and 10000'],
  [1, 10_001, 'coalesceMicros must be between 0 and 10000'],
])('create(%i threads, %i µs) is refused: %s', (threads, coalesceMicros, message) => {
  expect(() => addon.create(threads, noop, coalesceMicros)).toThrow(message);
});

test('create() without the pause argument is refused', () => {
  const loose = addon as unknown as { create(threads: number, onPacket: () => void): unknown };
  expect(() => loose.create(1, noop)).toThrow('expected an integer argument');
});

test.each([
  [1, 0],
  [2, 10_000],
])('the bounds themselves are accepted: %i thread(s), %i µs', (threads, coalesceMicros) => {
  const plane = addon.create(threads, noop, coalesceMicros);
  const [, port] = addon.listen(plane, '127.0.0.1', 0);
  expect(port).toBeGreaterThan(0);
  addon.close(plane);
});
