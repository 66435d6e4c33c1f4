// Go-style durations ("90s", "30m", "1h30m", "1.5h", "250ms"), the notation
// Kubernetes users already write in CRDs. Shared by the relay's CLI and the
// operator so "1h" means the same thing everywhere.
import { z } from 'zod';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// One or more "<number><unit>" terms, or a bare "0".
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Parses a non-negative Go-style duration into milliseconds (may be fractional below 1 ms). */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '') throw new DurationError('empty duration (expected e.g. "30m", "1h", "1h30m")');
  if (input.startsWith('-')) throw new DurationError(`negative duration "${input}" is not allowed`);
  const body = input.startsWith('+') ? input.slice(1) : input;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < body.length) {
    const at = TERM.lastIndex;
    const match = TERM.exec(body);
    if (!match || match.index !== at) {
      throw new DurationError(
        `invalid duration "${input}" (expected e.g. "30m", "1h", "1h30m"; units ns, us, ms, s, m, h)`,
      );
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  if (!Number.isFinite(total)) throw new DurationError(`duration "${input}" is too large`);
  return total;
}

/** Like parseDuration, in whole seconds (rounded down); rejects durations under one second. */
export function parseDurationSeconds(text: string): number {
  const ms = parseDuration(text);
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1 && ms !== 0) {
    throw new DurationError(`duration "${text.trim()}" is shorter than one second`);
  }
  return seconds;
}

/** Formats seconds the way Go prints durations ("1h30m0s" becomes "1h30m"; 0 is "0s"). */
export function formatDurationSeconds(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0)
    throw new DurationError(`cannot format ${totalSeconds} as a duration`);
  const s = Math.floor(totalSeconds);
  if (s === 0) return '0s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? `${rest}s` : ''}`;
}

/** zod schema for a duration string; the output stays the string (parse it where it is used). */
export const DurationString = z.string().superRefine((value, ctx) => {
  try {
    parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
