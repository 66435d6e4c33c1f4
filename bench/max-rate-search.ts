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
