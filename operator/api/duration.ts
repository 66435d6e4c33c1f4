// Go-style durations ("90s", "30m", "1h30m") as used across the TurnRelay API.
// The same syntax is understood by Kubernetes CEL's duration(), so the CRD can
// compare durations server-side with exactly the meaning used here.

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;

/** Anchored pattern for the CRD schema (OpenAPI `pattern`). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Seconds in a duration string; throws on anything that is not a duration. */
export function parseDurationSeconds(text: string): number {
  if (!isDuration(text)) throw new Error(`invalid duration "${text}" (expected e.g. 90s, 30m, 1h, 1h30m)`);
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  return seconds;
}
