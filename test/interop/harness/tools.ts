// The interop tests drive real third-party programs. When one is missing the
// test must fail loudly with the fix, never skip silently.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Returns absolute paths for the programs, or throws naming every missing one. */
export function requireTools<const T extends readonly string[]>(names: T): Record<T[number], string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const path = findOnPath(name);
    if (path) found[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `missing system programs: ${missing.join(', ')}. Install them with: sudo bash scripts/install-system-deps.sh`,
    );
  }
  return found;
}
