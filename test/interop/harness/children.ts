// Child processes started by a test or benchmark. Every child gets its own
// process group so that killing it also kills anything it forked (chromium
// helpers, shells), and a ChildSet remembers them so afterAll can always
// clean up, even when the test body threw halfway.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ChildSet {
  private readonly live = new Set<ChildProcess>();

  /** Starts a long-running child (a server, a capture). Output is collected. */
  start(command: string, args: readonly string[], options: SpawnOptions = {}): StartedChild {
    const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    return new StartedChild(command, child);
  }

  /** Runs a command to completion, killing it when it exceeds the timeout. */
  async run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    const started = this.start(command, args, { cwd: options.cwd, env: options.env });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(started.process, 'SIGKILL');
    }, options.timeoutMs);
    try {
      const [code, signal] = await started.exited;
      return { code, signal, stdout: started.stdout(), stderr: started.stderr(), timedOut };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Terminates every child still running: SIGTERM, then SIGKILL after a grace period. */
  async stopAll(graceMs = 2000): Promise<void> {
    const children = [...this.live];
    await Promise.all(
      children.map(async (child) => {
        const exited = once(child, 'exit');
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

export class StartedChild {
  private out = '';
  private err = '';
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(
    readonly command: string,
    readonly process: ChildProcess,
  ) {
    process.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    const spawnError = once(process, 'error').then(([error]) => {
      throw new Error(`could not start ${command}: ${(error as Error).message}`);
    });
    const exit = once(process, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    this.exited = Promise.race([exit, spawnError]);
    this.exited.catch(() => undefined); // observed by whoever awaits it
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error(`${this.command} has no pid (did it start?)`);
    return this.process.pid;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** Resolves with the first stdout/stderr match, or rejects on exit or timeout. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(
      () => (exited = true),
      () => (exited = true),
    );
    for (;;) {
      const match = this.out.match(pattern) ?? this.err.match(pattern);
      if (match) return match;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the exit callback while this loop awaits
      if (exited) throw new Error(`${this.command} exited before printing ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.command} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  tail(chars = 3000): string {
    return `--- stdout ---\n${this.out.slice(-chars)}\n--- stderr ---\n${this.err.slice(-chars)}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    killGroup(this.process, signal);
    const timer = setTimeout(() => killGroup(this.process, 'SIGKILL'), graceMs);
    await this.exited.catch(() => undefined);
    clearTimeout(timer);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
