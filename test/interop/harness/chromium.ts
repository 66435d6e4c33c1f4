// Drives Debian's Chromium through playwright-core to run a relay-only
// RTCPeerConnection pair (see webrtc-pair.page.js) against a TURN server.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireTools } from './tools.js';

const run = promisify(execFile);

export interface IceServer {
  urls: string;
  username: string;
  credential: string;
}

export interface PairEnd {
  state: string;
  nominated: boolean;
  bytesSent: number;
  bytesReceived: number;
  /** Over every candidate pair of the connection (all relay pairs under iceTransportPolicy 'relay'). */
  allPairsBytesReceived: number;
  local: { candidateType: string; relayProtocol?: string; address: string; port: number };
  remote: { candidateType: string; address: string; port: number };
}

export interface PairResult {
  echoes: number;
  a: PairEnd;
  b: PairEnd;
  candidates: { a: string[]; b: string[] };
}

const pageScript = readFile(new URL('./webrtc-pair.page.js', import.meta.url), 'utf8');

export interface ChromiumOptions {
  /** Run inside this network namespace (a pod node's). */
  netnsPath?: string;
  /**
   * Trust this CA (PEM) for TLS servers through an NSS database in a temp
   * HOME, the way a user's browser trusts a company CA, and verify
   * certificates. Without it the launch ignores certificate errors (the
   * interop tests' turns: servers are self-signed).
   */
  trustedCaPem?: string;
  /** Chromium's --host-resolver-rules, e.g. `MAP turn.example.test 10.0.0.12`: DNS names without a DNS server. */
  hostResolverRules?: string;
}

/**
 * Launches Chromium; with `netnsPath` it runs inside that network namespace
 * (a pod node's), entered by nsenter (not `ip netns exec`, which remounts
 * /sys). nsenter without --pid execs in place, so the browser keeps the pipes
 * playwright talks to it through and closing the browser ends it.
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  const tools = requireTools(['chromium', 'nsenter']);
  const tempDir = await mkdtemp(join(tmpdir(), 'turnrelay-chromium-'));
  const cleanUp = () => rm(tempDir, { recursive: true, force: true });
  let executablePath = tools.chromium;
  const env: Record<string, string> = {};
  try {
    if (options.netnsPath) {
      executablePath = join(tempDir, 'chromium');
      const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
      await writeFile(
        executablePath,
        `#!/bin/sh\nexec ${quote(tools.nsenter)} --net=${quote(options.netnsPath)} -- ${quote(tools.chromium)} "$@"\n`,
      );
      await chmod(executablePath, 0o755);
    }
    if (options.trustedCaPem !== undefined) env.HOME = await trustingHome(tempDir, options.trustedCaPem);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const browser = await chromium
    .launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Chromium otherwise refuses a self-signed turns: server and silently gathers no candidate.
        ...(options.trustedCaPem === undefined ? ['--ignore-certificate-errors'] : []),
        ...(options.hostResolverRules ? [`--host-resolver-rules=${options.hostResolverRules}`] : []),
      ],
      env: { ...process.env, ...env },
      timeout: 30_000,
    })
    .catch(async (error: unknown) => {
      await cleanUp();
      throw error;
    });
  browser.once('disconnected', () => void cleanUp());
  return browser;
}

/** A page with the pair script loaded. */
async function pairPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  try {
    await page.addScriptTag({ content: await pageScript });
    return page;
  } catch (error) {
    await page.close();
    throw error;
  }
}

/** A HOME whose .pki/nssdb (where Chromium on Linux reads user trust) trusts `caPem` to identify TLS servers. */
async function trustingHome(parent: string, caPem: string): Promise<string> {
  const { certutil } = requireTools(['certutil']);
  const home = join(parent, 'home');
  const db = join(home, '.pki', 'nssdb');
  await mkdir(db, { recursive: true });
  const caFile = join(parent, 'ca.pem');
  await writeFile(caFile, caPem);
  await run(certutil, ['-N', '-d', `sql:${db}`, '--empty-password']);
  // C,, : a trusted CA for issuing server certificates (not for e-mail or code signing).
  await run(certutil, ['-A', '-d', `sql:${db}`, '-n', 'turnrelay-test-ca', '-t', 'C,,', '-i', caFile]);
  return home;
}

export async function runTurnPair(
  browser: Browser,
  options: { iceServer: IceServer; messages: number; marker: string; timeoutMs: number },
): Promise<PairResult> {
  const page = await pairPage(browser);
  try {
    return (await page.evaluate(
      (opts) => (globalThis as unknown as { runTurnPair(o: typeof opts): Promise<unknown> }).runTurnPair(opts),
      options,
    )) as PairResult;
  } finally {
    await page.close();
  }
}

export interface CallProgress {
  sent: number;
  echoed: number;
  /** Set when an echo came back out of order or altered. */
  error?: string;
  ice: { a: string; b: string };
}

export interface TurnCall {
  /** The selected candidate pairs once the data channel opened. */
  connected: Omit<PairResult, 'echoes'>;
  progress(): Promise<CallProgress>;
  /** Hangs up: both peer connections closed, the page closed. */
  close(): Promise<void>;
}

/**
 * A call in progress: a relay-only pair whose data channel carries one message
 * every `intervalMs`, echoed back, until close().
 */
export async function openTurnCall(
  browser: Browser,
  options: { iceServer: IceServer; marker: string; timeoutMs: number; intervalMs: number },
): Promise<TurnCall> {
  const page = await pairPage(browser);
  type CallWindow = {
    openTurnCall(o: typeof options): Promise<unknown>;
    turnCallProgress(): CallProgress;
    closeTurnCall(): void;
  };
  // Each function runs in the page, so it names the page's globals itself.
  try {
    const connected = (await page.evaluate(
      (opts) => (globalThis as unknown as CallWindow).openTurnCall(opts),
      options,
    )) as TurnCall['connected'];
    return {
      connected,
      progress: () => page.evaluate(() => (globalThis as unknown as CallWindow).turnCallProgress()),
      async close() {
        await page.evaluate(() => (globalThis as unknown as CallWindow).closeTurnCall());
        await page.close();
      },
    };
  } catch (error) {
    await page.close();
    throw error;
  }
}
