// An inferred 1 -> N thread scaling figure for machines with too few cores to
// measure it (on 2 cores the N-thread server shares a CPU with the load
// generator): the capacity of t threads, each given a whole core, is taken to
// be t x 1e6 / (server CPU µs per relayed packet), with the CPU per packet
// measured at the highest ladder rate both runs carried within the loss limit.
// It assumes the threads do not slow each other down beyond what the CPU per
// packet already shows; it is labelled inferred wherever it is printed.
import { MAX_LOSS_PERCENT } from './max-rate-search.js';

interface Step {
  offeredMessagesPerSecond: number;
  search: 'ladder' | 'bisection';
  lossPercent: number;
  cpuMicrosPerRelayedPacket: number;
}

export interface InferredScaling {
  offeredMessagesPerSecond: number;
  /** Relayed packets/s that `threads` whole cores would carry at that CPU per packet. */
  capacity: { one: number; many: number };
  ratio: number;
}

export function inferredScaling(one: Step[], many: Step[], threads: number): InferredScaling | undefined {
  const passed = (steps: Step[]) =>
    new Map(
      steps
        .filter((s) => s.search === 'ladder' && s.lossPercent <= MAX_LOSS_PERCENT && s.cpuMicrosPerRelayedPacket > 0)
        .map((s) => [s.offeredMessagesPerSecond, s.cpuMicrosPerRelayedPacket]),
    );
  const a = passed(one);
  const b = passed(many);
  const common = [...a.keys()].filter((rate) => b.has(rate));
  if (common.length === 0) return undefined;
  const rate = Math.max(...common);
  const capacity = { one: 1e6 / a.get(rate)!, many: (threads * 1e6) / b.get(rate)! };
  return { offeredMessagesPerSecond: rate, capacity, ratio: capacity.many / capacity.one };
}
