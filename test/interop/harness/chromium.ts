// Drives Debian's Chromium through playwright-core to run a relay-only
// RTCPeerConnection pair (see webrtc-pair.page.js) against a TURN server.
import { readFile } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
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

export async function launchChromium(): Promise<Browser> {
  const tools = requireTools(['chromium']);
  return chromium.launch({
    executablePath: tools.chromium,
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
  });
}

export async function runTurnPair(
  browser: Browser,
  options: { iceServer: IceServer; messages: number; marker: string; timeoutMs: number },
): Promise<PairResult> {
  const page = await browser.newPage();
  try {
    await page.addScriptTag({ content: await pageScript });
    return (await page.evaluate(
      (opts) => (globalThis as unknown as { runTurnPair(o: typeof opts): Promise<unknown> }).runTurnPair(opts),
      options,
    )) as PairResult;
  } finally {
    await page.close();
  }
}
