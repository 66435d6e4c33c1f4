// Node process metrics (CPU, memory, event-loop lag, file descriptors) for the
// relay's and the operator's registries.
import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * How often the event-loop lag monitor samples, in ms. prom-client's default (10) wakes the
 * JS thread 100 times a second, which on an idle native-plane relay (its packets never reach
 * JS) was nearly all of its CPU: 9-11 ms per second, 15 to 30 times what an idle coturn uses
 * (1.5-2 ms/s at 100 ms). A stall of 100 ms or more still always shows in the lag metrics.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}
