// The search for the highest offered rate a server relays with at most 0.1%
// loss: after a fixed ladder of rates, bisection between the highest passing
// and the lowest failing rate above it.

/** The loss limit of the maximum relayed rate (percent of the messages sent). */
export const MAX_LOSS_PERCENT = 0.1;

/**
 * The offered rate the maximum search tries next: the middle of the highest
 * passing and the lowest failing rate above it, or undefined once that
 * bracket is within `resolution` (a fraction of the passing rate) or the
 * ladder found no such bracket. Pure.
 */
export function nextBisectionRate(
  steps: Array<{ offeredMessagesPerSecond: number; lossPercent: number }>,
  resolution: number,
): number | undefined {
  const passing = steps.filter((s) => s.lossPercent <= MAX_LOSS_PERCENT).map((s) => s.offeredMessagesPerSecond);
  if (passing.length === 0) return undefined;
  const low = Math.max(...passing);
  const failingAbove = steps
    .filter((s) => s.lossPercent > MAX_LOSS_PERCENT && s.offeredMessagesPerSecond > low)
    .map((s) => s.offeredMessagesPerSecond);
  if (failingAbove.length === 0) return undefined;
  const high = Math.min(...failingAbove);
  if (high - low <= resolution * low) return undefined;
  return Math.round((low + high) / 2);
}

/** What one step of the search lost, and where the load generator saw it go. */
export interface StepLoss {
  offeredMessagesPerSecond: number;
  lossPercent: number;
  sent: number;
  received: number;
  /** Dropped at the generator's own receive buffers, or not taken by its sends. */
  lostAtGenerator: number;
  /** The generator's CPU over the step, percent of the one CPU it is pinned to. */
  generatorCpuPercent: number;
}

/**
 * At or above this share of its CPU the load generator is taken to be out of CPU:
 * its sender then falls behind the pacing and catches up in bursts, so what the
 * server was offered was not the paced rate, and the server's own drops in such a
 * step say nothing about the server at that rate.
 */
export const GENERATOR_SATURATED_PERCENT = 95;

/**
 * What capped the maximum: nothing (no step above it failed, so the maximum is
 * only a lower bound), or the failing step just above it: the load generator
 * when most of its lost messages were dropped at the generator's own sockets or
 * the generator was out of CPU, else the server. Pure.
 */
export type RateLimit =
  | { by: 'none (top of the ladder)' }
  | { by: 'load generator' | 'server'; offeredMessagesPerSecond: number; generatorCpuPercent: number };

export function maxRateLimit(steps: StepLoss[]): RateLimit {
  const passing = steps.filter((s) => s.lossPercent <= MAX_LOSS_PERCENT).map((s) => s.offeredMessagesPerSecond);
  const best = passing.length > 0 ? Math.max(...passing) : 0;
  const above = steps
    .filter((s) => s.lossPercent > MAX_LOSS_PERCENT && s.offeredMessagesPerSecond > best)
    .sort((a, b) => a.offeredMessagesPerSecond - b.offeredMessagesPerSecond)[0];
  if (!above) return { by: 'none (top of the ladder)' };
  const lost = Math.max(0, above.sent - above.received);
  return {
    by:
      2 * above.lostAtGenerator >= lost || above.generatorCpuPercent >= GENERATOR_SATURATED_PERCENT
        ? 'load generator'
        : 'server',
    offeredMessagesPerSecond: above.offeredMessagesPerSecond,
    generatorCpuPercent: above.generatorCpuPercent,
  };
}
