import { inferredScaling } from '../../../bench/capacity.js';

const step = (rate: number, loss: number, cpu: number, search: 'ladder' | 'bisection' = 'ladder') => ({
  offeredMessagesPerSecond: rate,
  search,
  lossPercent: loss,
  cpuMicrosPerRelayedPacket: cpu,
});

describe('inferred 1 -> N thread scaling', () => {
  test('t x 1e6 / CPU per packet at the highest ladder rate both runs carried', () => {
    const one = [step(20_000, 0, 10), step(60_000, 0, 8), step(80_000, 2, 7)];
    const two = [step(20_000, 0, 11), step(60_000, 0.05, 8.5), step(80_000, 0, 8), step(70_000, 0, 1, 'bisection')];
    const s = inferredScaling(one, two, 2)!;
    expect(s.offeredMessagesPerSecond).toBe(60_000);
    expect(s.capacity.one).toBeCloseTo(125_000);
    expect(s.capacity.many).toBeCloseTo(235_294, 0);
    expect(s.ratio).toBeCloseTo(2 * (8 / 8.5));
  });

  test('undefined when no rate passed in both runs', () => {
    expect(inferredScaling([step(20_000, 1, 10)], [step(20_000, 0, 10)], 2)).toBeUndefined();
    expect(inferredScaling([step(20_000, 0, 10)], [step(40_000, 0, 10)], 2)).toBeUndefined();
  });
});
