// The ratios a bench round prints, as labelled values, and their summary over
// several rounds (`npm run bench -- --rounds N`): the spread between runs on
// this VM is large enough that one round's ratio is one sample, so the
// summary gives the median with the lowest and highest round beside it.

export interface RatioLine {
  /** What the ratio compares; the same label in every round names the same figure. */
  label: string;
  value: number | undefined;
  /** The goal for it, as printed (e.g. "<= 0.5x"), if it has one. */
  goal?: string;
  /** What to read beside this round's value (e.g. what capped the two maxima); not summarised. */
  note?: string;
}

export interface RatioSummary {
  label: string;
  goal?: string;
  /** Rounds that produced a value (a ladder step one server failed gives none). */
  rounds: number;
  median: number;
  min: number;
  max: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One summary per label, in the order labels first appear; labels with no value in any round are left out. Pure. */
export function summariseRounds(rounds: RatioLine[][]): RatioSummary[] {
  const byLabel = new Map<string, { goal?: string; values: number[] }>();
  for (const round of rounds)
    for (const line of round) {
      const entry = byLabel.get(line.label) ?? { goal: line.goal, values: [] };
      if (line.value !== undefined && Number.isFinite(line.value)) entry.values.push(line.value);
      byLabel.set(line.label, entry);
    }
  return [...byLabel.entries()]
    .filter(([, e]) => e.values.length > 0)
    .map(([label, e]) => ({
      label,
      ...(e.goal === undefined ? {} : { goal: e.goal }),
      rounds: e.values.length,
      median: median(e.values),
      min: Math.min(...e.values),
      max: Math.max(...e.values),
    }));
}
