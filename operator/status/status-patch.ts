// A JSON merge patch (RFC 7396) that turns the live status into the desired
// one, or undefined when they are equal: status is written only on change.
// Keys the new status no longer has are sent as null, which removes them.
import { isDeepStrictEqual } from 'node:util';
import type { TurnRelayStatus } from '../api/turnrelay.js';

export function statusMergePatch(
  live: TurnRelayStatus | undefined,
  desired: TurnRelayStatus,
): { status: Record<string, unknown> } | undefined {
  const before = (live ?? {}) as Record<string, unknown>;
  const after = desired as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) if (v !== undefined && !isDeepStrictEqual(before[k], v)) patch[k] = v;
  for (const k of Object.keys(before)) if (after[k] === undefined && before[k] !== undefined) patch[k] = null;
  return Object.keys(patch).length ? { status: patch } : undefined;
}
