// Watches mounted files for content changes. Kubernetes updates a mounted
// ConfigMap/Secret by writing a new timestamped directory and atomically
// renaming the `..data` symlink over the old one; the file itself
// (`/auth/secrets -> ..data/secrets`) never sees an event. Editors replace
// files by rename, and files may vanish and come back. So: watch the parent
// directories (where all of this shows up), debounce the burst of events,
// then compare content hashes and report only real changes. A slow poll is
// the safety net for directories that do not exist yet or watchers that die.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createLogger } from '../../shared/log.js';

const log = createLogger('file-watch');

export interface WatchOptions {
  debounceMs?: number;
  /** Re-check interval that catches what directory events missed; 0 disables. */
  pollMs?: number;
}

function contentHash(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null; // missing or unreadable: a later re-creation is a change
  }
}

function watchedDirs(path: string): string[] {
  const dirs = [dirname(path)];
  try {
    const real = dirname(realpathSync(path));
    if (real !== dirs[0]) dirs.push(real);
  } catch {
    // not there yet
  }
  return dirs;
}

export function watchFiles(
  paths: string[],
  onChange: (changedPath: string) => void,
  opts: WatchOptions = {},
): { close(): void } {
  const debounceMs = opts.debounceMs ?? 200;
  const pollMs = opts.pollMs ?? 10_000;
  const files = [...new Set(paths.map((p) => resolve(p)))];
  const hashes = new Map(files.map((f) => [f, contentHash(f)]));
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const armWatchers = () => {
    const wanted = new Set(files.flatMap(watchedDirs));
    for (const [dir, w] of watchers) {
      if (!wanted.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, schedule);
        w.on('error', () => {
          // The directory went away; the poll re-arms it when it is back.
          w.close();
          watchers.delete(dir);
          schedule();
        });
        watchers.set(dir, w);
      } catch {
        // Directory missing for now; retried on the next poll.
      }
    }
  };

  const check = () => {
    timer = undefined;
    if (closed) return;
    armWatchers();
    for (const file of files) {
      const next = contentHash(file);
      if (next === hashes.get(file)) continue;
      hashes.set(file, next);
      if (next === null) continue; // deleted: wait for it to come back
      try {
        onChange(file);
      } catch (err) {
        log.error({ file, err: (err as Error).message }, 'file change handler failed');
      }
    }
  };

  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
    timer.unref();
  }

  armWatchers();
  const poll = pollMs > 0 ? setInterval(schedule, pollMs) : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
