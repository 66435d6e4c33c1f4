// Allocation lifetime negotiation (RFC 8656 §7.2 step 8 / §7.3): the client's
// wish, raised to the default and capped at the maximum; 0 only on Refresh.
import type { RelayConfig } from '../config/schema.js';

export function grantedLifetimeSeconds(requested: number | undefined, limits: RelayConfig['limits']): number {
  if (requested === undefined) return limits.defaultLifetimeSeconds;
  return Math.min(Math.max(requested, limits.defaultLifetimeSeconds), limits.maxLifetimeSeconds);
}
