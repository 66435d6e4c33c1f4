// Drives Debian's Chromium through playwright-core to run a relay-only
// RTCPeerConnection pair (see webrtc-pair.page.js) against a TURN server.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireTools } from './tools.js';

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

/**
 * Launches Chromium; with `netnsPath` it runs inside that network namespace
 * (a pod node's), entered by nsenter (not `ip netns exec`, which remounts
 * /sys). nsenter without --pid execs in place, so the browser keeps the pipes
 * playwright talks to it through and closing the browser ends it.
 */
export async function launchChromium(options: { netnsPath?: string } = {}): Promise<Browser> {
  const tools = requireTools(['chromium', 'nsenter']);
  let wrapperDir: string | undefined;
  let executablePath = tools.chromium;
  if (options.netnsPath) {
    wrapperDir = await mkdtemp(join(tmpdir(), 'turnrelay-chromium-netns-'));
    executablePath = join(wrapperDir, 'chromium');
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    await writeFile(
      executablePath,
      `#!/bin/sh\nexec ${quote(tools.nsenter)} --net=${quote(options.netnsPath)} -- ${quote(tools.chromium)} "$@"\n`,
    );
    await chmod(executablePath, 0o755);
  }
  const browser = await chromium
    .launch({
      executablePath,
      // The TLS test uses a self-signed certificate; Chromium otherwise refuses
      // the turns: server and silently gathers no candidate.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--ignore-certificate-errors',
      ],
      timeout: 30_000,
    })
    .catch(async (error: unknown) => {
      if (wrapperDir) await rm(wrapperDir, { recursive: true, force: true });
      throw error;
    });
  if (wrapperDir) {
    const dir = wrapperDir;
    browser.once('disconnected', () => void rm(dir, { recursive: true, force: true }));
  }
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
