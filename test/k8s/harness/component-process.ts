// One control-plane component (etcd, kube-apiserver, kube-controller-manager)
// running as a child process. Its output goes to a log file in the cluster's
// temp dir rather than memory, since the API server is chatty; the tail of
// that file is what start errors quote. No orphans when the test process
// dies: an 'exit' hook kills live components, and where util-linux's setpriv
// exists each component also gets SIGKILL from the kernel when its parent
// dies, which covers a SIGKILLed Jest too.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface ComponentOptions {
  /** Run inside this network namespace (a /run/netns/NAME path). */
  netnsPath?: string;
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
}

export class ComponentProcess {
  private readonly child: ChildProcess;
  /** Resolves when the process has exited, with a description of how. */
  readonly exited: Promise<string>;
  private exitDescription: string | undefined;

  constructor(
    readonly name: string,
    readonly binary: string,
    args: readonly string[],
    readonly logFile: string,
    options: ComponentOptions = {},
  ) {
    const log = openSync(logFile, 'a');
    try {
      // nsenter execs the binary in place, so the pid and the death signal stay its own.
      const inNetns = options.netnsPath
        ? ['/usr/bin/nsenter', `--net=${options.netnsPath}`, '--', binary, ...args]
        : [binary, ...args];
      const [command, ...commandArgs] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...inNetns] : inNetns;
      this.child = spawn(command!, commandArgs, {
        stdio: ['ignore', log, log],
        env: { ...process.env, ...options.env },
      });
    } finally {
      closeSync(log); // the child holds its own descriptor
    }
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        live.delete(this.child);
        resolve((this.exitDescription = `could not be started: ${error.message}`));
      });
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        resolve((this.exitDescription = signal ? `was killed by ${signal}` : `exited with code ${code}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Undefined while running; otherwise how it ended. */
  get exitState(): string | undefined {
    return this.exitDescription;
  }

  /** The last lines of the component's log, for error messages. */
  logTail(lines = 25): string {
    if (!existsSync(this.logFile)) return '(no log)';
    const text = readFileSync(this.logFile, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n') || '(empty log)';
  }

  /** SIGTERM, then SIGKILL if it has not exited after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exitDescription !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
