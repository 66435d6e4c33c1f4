// Durations in the TurnRelay API are Go-style strings ("90s", "30m", "1h30m"),
// parsed by the relay's own parser so "1h" means the same everywhere. The CRD
// pattern admits the subset Kubernetes CEL's duration() also understands, so
// the API server can compare durations with the same meaning.
import { parseDuration } from '../../shared/duration.js';

/** Anchored pattern for the CRD schema (OpenAPI `pattern`). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/** Whole seconds in a duration, rounded down. */
export function durationSeconds(text: string): number {
  return Math.floor(parseDuration(text) / 1000);
}
