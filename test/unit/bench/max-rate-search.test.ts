import {
  GENERATOR_SATURATED_PERCENT,
  maxRateLimit,
  nextBisectionRate,
  type StepLoss,
} from '../../../bench/max-rate-search.js';

const step = (offeredMessagesPerSecond: number, lossPercent: number) => ({ offeredMessagesPerSecond, lossPercent });

describe('max-rate search: next bisection rate', () => {
  test('the middle of the highest passing and the lowest failing rate above it', () => {
    expect(nextBisectionRate([step(40_000, 0), step(60_000, 0.05), step(80_000, 2), step(100_000, 19)], 0.01)).toBe(
      70_000,
    );
  });

  test('narrows as probes pass and fail, and stops once the bracket is within the resolution', () => {
    const steps = [step(60_000, 0), step(80_000, 2)];
    const probes: number[] = [];
    // A server that passes up to 73,000 msg/s.
    for (let rate = nextBisectionRate(steps, 0.01); rate !== undefined; rate = nextBisectionRate(steps, 0.01)) {
      probes.push(rate);
      steps.push(step(rate, rate <= 73_000 ? 0 : 1));
    }
    expect(probes.slice(0, 3)).toEqual([70_000, 75_000, 72_500]);
    const passing = Math.max(...steps.filter((s) => s.lossPercent <= 0.1).map((s) => s.offeredMessagesPerSecond));
    const failing = Math.min(...steps.filter((s) => s.lossPercent > 0.1).map((s) => s.offeredMessagesPerSecond));
    expect(passing).toBeLessThanOrEqual(73_000);
    expect(failing).toBeGreaterThan(73_000);
    expect(failing - passing).toBeLessThanOrEqual(0.01 * passing);
  });

  test('a failing rate below the highest passing one (noise) does not bracket the search', () => {
    expect(nextBisectionRate([step(20_000, 0.5), step(40_000, 0), step(60_000, 0.3), step(80_000, 5)], 0.01)).toBe(
      50_000,
    );
  });

  test('nothing to bisect without a passing rate or without a failing rate above it', () => {
    expect(nextBisectionRate([step(5_000, 1), step(10_000, 3)], 0.01)).toBeUndefined();
    expect(nextBisectionRate([step(5_000, 0), step(10_000, 0)], 0.01)).toBeUndefined();
    expect(nextBisectionRate([], 0.01)).toBeUndefined();
  });

  test('a loss of exactly 0.1% passes', () => {
    expect(nextBisectionRate([step(60_000, 0.1), step(80_000, 0.11)], 0.01)).toBe(70_000);
  });
});

describe('max-rate search: what capped the maximum', () => {
  const measured = (offered: number, lost: number, lostAtGenerator: number, generatorCpuPercent = 60): StepLoss => ({
    offeredMessagesPerSecond: offered,
    sent: offered,
    received: offered - lost,
    lossPercent: (100 * lost) / offered,
    lostAtGenerator,
    generatorCpuPercent,
  });

  test('the failing step just above the maximum names the side where most of its loss was dropped', () => {
    const steps = [measured(40_000, 0, 0), measured(80_000, 4_000, 3_900, 99), measured(60_000, 600, 100)];
    // 60k is the bracket's upper end (80k failed too, but further up): 100 of 600 lost at the generator.
    expect(maxRateLimit(steps)).toEqual({ by: 'server', offeredMessagesPerSecond: 60_000, generatorCpuPercent: 60 });
    steps.push(measured(50_000, 500, 250, 70));
    expect(maxRateLimit(steps)).toEqual({
      by: 'load generator',
      offeredMessagesPerSecond: 50_000,
      generatorCpuPercent: 70,
    });
  });

  test("a step where the generator was out of CPU is the generator's, wherever its loss was dropped", () => {
    const steps = [measured(40_000, 0, 0), measured(60_000, 6_000, 0, GENERATOR_SATURATED_PERCENT)];
    expect(maxRateLimit(steps).by).toBe('load generator');
    steps[1] = measured(60_000, 6_000, 0, GENERATOR_SATURATED_PERCENT - 1);
    expect(maxRateLimit(steps).by).toBe('server');
  });

  test('no failing step above the maximum: only the top of the ladder capped it', () => {
    expect(maxRateLimit([measured(20_000, 500, 500), measured(40_000, 0, 0)])).toEqual({
      by: 'none (top of the ladder)',
    });
    expect(maxRateLimit([])).toEqual({ by: 'none (top of the ladder)' });
  });
});
