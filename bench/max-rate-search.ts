// The search for the highest offered rate a server relays with at most 0.1%
// loss: after a fixed ladder of rates, bisection between the highest passing
// and the lowest failing rate above it.

/** The loss limit of the maximum relayed rate (percent of the messages sent). */
export const MAX_LOSS_PERCENT = 0.1;

type Step = { offeredMessagesPerSecond: number; lossPercent: number };

/**
 * The search's bracket: the highest rate that passed (undefined if none did),
 * and the step that failed at the lowest rate above it (above 0 if none passed). Pure.
 */
function bracket<S extends Step>(steps: S[]): { passing: number | undefined; failing: S | undefined } {
  const passingRates = steps.filter((s) => s.lossPercent <= MAX_LOSS_PERCENT).map((s) => s.offeredMessagesPerSecond);
  const passing = passingRates.length > 0 ? Math.max(...passingRates) : undefined;
  const failing = steps
    .filter((s) => s.lossPercent > MAX_LOSS_PERCENT && s.offeredMessagesPerSecond > (passing ?? 0))
    .sort((a, b) => a.offeredMessagesPerSecond - b.offeredMessagesPerSecond)[0];
  return { passing, failing };
}

/**
 * The offered rate the maximum search tries next: the middle of the highest
 * passing and the lowest failing rate above it, or undefined once that
 * bracket is within `resolution` (a fraction of the passing rate) or the
 * ladder found no such bracket. Pure.
 */
export function nextBisectionRate(steps: Step[], resolution: number): number | undefined {
  const { passing: low, failing } = bracket(steps);
  if (low === undefined || failing === undefined) return undefined;
  const high = failing.offeredMessagesPerSecond;
  if (high - low <= resolution * low) return undefined;
  return Math.round((low + high) / 2);
}

/** What one step of the search lost, and where the load generator saw it go. */
export interface StepLoss extends Step {
  sent: number;
  /** Datagrams of this step that came back (carrying its nonce). */
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
  const above = bracket(steps).failing;
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
