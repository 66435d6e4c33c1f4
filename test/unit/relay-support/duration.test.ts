import fc from 'fast-check';
import {
  DurationString,
  formatDurationSeconds,
  parseDuration,
  parseDurationSeconds,
} from '../../../shared/duration.js';

test.each([
  ['0', 0],
  ['1h', 3_600_000],
  ['30m', 1_800_000],
  ['24h', 86_400_000],
  ['1h30m', 5_400_000],
  ['1.5h', 5_400_000],
  ['90s', 90_000],
  ['250ms', 250],
  ['1m0.5s', 60_500],
  ['+5s', 5000],
  ['1500us', 1.5],
  [' 2h ', 7_200_000],
  ['.5s', 500],
])('parseDuration(%j) = %d ms', (text, ms) => expect(parseDuration(text)).toBeCloseTo(ms, 6));

test.each(['', '1', 'h', '1d', '-1h', '1h-5m', '1 h', '1H', 'abc', '1h30', '5mm', '1e3s'])(
  'parseDuration(%j) throws a clear error',
  (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  },
);

test('whole seconds, and sub-second durations are refused where seconds are needed', () => {
  expect(parseDurationSeconds('1h')).toBe(3600);
  expect(parseDurationSeconds('1500ms')).toBe(1);
  expect(parseDurationSeconds('0')).toBe(0);
  expect(() => parseDurationSeconds('500ms')).toThrow(/shorter than one second/);
});

test('formatDurationSeconds round-trips through parseDurationSeconds', () => {
  expect(formatDurationSeconds(5400)).toBe('1h30m');
  expect(formatDurationSeconds(0)).toBe('0s');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), (s) => {
      expect(parseDurationSeconds(formatDurationSeconds(s))).toBe(s);
    }),
  );
});

test('DurationString validates in zod', () => {
  expect(DurationString.parse('1h')).toBe('1h');
  const r = DurationString.safeParse('soon');
  expect(r.success).toBe(false);
  expect(r.error?.issues[0]?.message).toMatch(/invalid duration "soon"/);
});
