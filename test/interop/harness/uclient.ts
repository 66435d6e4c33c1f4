// Runs coturn's turnutils_uclient against a TURN server with one scenario:
// client transport, ChannelData or Send indications, long-term or REST
// credentials, and an echo peer or client-to-client relaying.
import type { ChildSet, RunResult } from './children.js';
import { parseUclientReport, type UclientReport } from './uclient-report.js';
import { requireTools } from './tools.js';

export type ClientTransport = 'udp' | 'tcp' | 'tls';

export type UclientAuth =
  { kind: 'long-term'; user: string; password: string } | { kind: 'rest-secret'; user: string; secret: string };

export type UclientPeer = { kind: 'echo'; host: string; port: number } | { kind: 'client-to-client' };

export interface UclientScenario {
  server: { host: string; port: number };
  transport: ClientTransport;
  method: 'channel-data' | 'send-indication';
  auth: UclientAuth;
  peer: UclientPeer;
  sessions: number;
  messages: number;
  /** Payload bytes per message. */
  size: number;
  /** Milliseconds between packets of one session (uclient -z); uclient's default is 20. */
  intervalMs?: number;
  timeoutMs: number;
  /** Run inside this network namespace (/run/netns/NAME), e.g. a test node's. */
  netnsPath?: string;
  /** uclient -v: also prints each allocation's relayed address (UclientReport.relayedAddresses). */
  verbose?: boolean;
}

export interface UclientOutcome {
  args: string[];
  run: RunResult;
  report: UclientReport;
}

export function uclientArgs(s: UclientScenario): string[] {
  const args = ['-c', '-X', '-m', String(s.sessions), '-n', String(s.messages), '-l', String(s.size)];
  if (s.intervalMs !== undefined) args.push('-z', String(s.intervalMs));
  if (s.verbose) args.push('-v');
  if (s.transport !== 'udp') args.push('-t');
  if (s.transport === 'tls') args.push('-S');
  if (s.method === 'send-indication') args.push('-s');
  if (s.auth.kind === 'long-term') args.push('-u', s.auth.user, '-w', s.auth.password);
  else args.push('-u', s.auth.user, '-W', s.auth.secret);
  if (s.peer.kind === 'echo') args.push('-e', s.peer.host, '-r', String(s.peer.port));
  else args.push('-y');
  args.push('-p', String(s.server.port), s.server.host);
  return args;
}

/** Messages uclient sends in total: one stream per session (-c: no RTCP streams). */
export function expectedMessages(s: UclientScenario): number {
  return s.sessions * s.messages;
}

export async function runUclient(children: ChildSet, scenario: UclientScenario): Promise<UclientOutcome> {
  const tools = requireTools(['turnutils_uclient']);
  const args = uclientArgs(scenario);
  const [command, commandArgs] = inNetns(scenario.netnsPath, tools.turnutils_uclient, args);
  let run = await children.run(command, commandArgs, { timeoutMs: scenario.timeoutMs });
  // Kept for the failure message: a second failure may say less than the first.
  let firstRun = '';
  if (run.code !== 0 && refusedRandomChannel(run.stdout)) {
    process.stderr.write(
      `turnutils_uclient: a channel bind was refused with 400 (see refusedRandomChannel); running it once more\n`,
    );
    firstRun = `first run (refused channel bind), exit ${run.code ?? run.signal}:\n${run.stdout.slice(-1500)}\nsecond run:\n`;
    run = await children.run(command, commandArgs, { timeoutMs: scenario.timeoutMs });
  }
  const transcript = `turnutils_uclient ${redactArgs(args).join(' ')}\n${firstRun}exit ${run.code ?? run.signal}${run.timedOut ? ' (timed out)' : ''}\n${run.stdout.slice(-2500)}\n${run.stderr.slice(-1000)}`;
  if (run.code !== 0) throw new Error(`turnutils_uclient failed:\n${transcript}`);
  let report: UclientReport;
  try {
    report = parseUclientReport(run.stdout);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${transcript}`, { cause: error });
  }
  return { args, run, report };
}

/**
 * Each uclient session (coturn 4.6) binds a random channel C to the peer's
 * port + 1 and then another random channel to the peer itself; one time in
 * 16384 (0x4000-0x7FFF) the second draw is C again, and a correct server
 * refuses it: 400, C is bound to another peer. That run says nothing about
 * the server, so it is run once more; a server that refuses such binds for
 * another reason fails the second run too.
 */
export function refusedRandomChannel(stdout: string): boolean {
  return stdout.includes('channel bind: error 400 (Bad Request)');
}

/** Never print passwords or shared secrets, even in test failure messages. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => (args[i - 1] === '-w' || args[i - 1] === '-W' ? '<redacted>' : arg));
}

/** The command line that runs `command args` inside a network namespace (or as is without one). */
export function inNetns(netnsPath: string | undefined, command: string, args: string[]): [string, string[]] {
  return netnsPath ? ['/usr/bin/nsenter', [`--net=${netnsPath}`, '--', command, ...args]] : [command, args];
}

export function startPeerArgs(host: string, port: number): string[] {
  return ['-L', host, '-p', String(port)];
}
