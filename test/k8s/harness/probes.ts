// Readiness probes for the control plane: small HTTP(S) GETs and a poll loop
// that gives up early when the component it waits for has died.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ComponentProcess } from './component-process.js';
import { PortInUseError } from './ports.js';

export interface ProbeResponse {
  status: number;
  body: string;
}

export interface ProbeOptions {
  caPem?: string;
  token?: string;
  timeoutMs?: number;
}

export function get(url: string, options: ProbeOptions = {}): Promise<ProbeResponse> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'GET',
        timeout: options.timeoutMs ?? 2000,
        ...(options.caPem ? { ca: options.caPem } : {}),
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `check` until it returns true. Fails with the component's log tail
 * when the component exits first, or after timeoutMs with the last probe error.
 */
export async function waitUntil(
  what: string,
  component: ComponentProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem: string;
  for (;;) {
    if (component.exitState !== undefined) throw exitedError(component, what);
    try {
      if (await check()) return;
      lastProblem = 'not ready yet';
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- it may have exited during the check
    if (component.exitState !== undefined) throw exitedError(component, what);
    if (Date.now() > deadline) {
      throw new Error(
        `control plane: ${component.name} not ready within ${timeoutMs} ms waiting for ${what} ` +
          `(last probe: ${lastProblem}); log ${component.logFile}:\n${component.logTail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Explains an early exit, naming the port when the log says it was taken. */
export function exitedError(component: ComponentProcess, what: string): Error {
  const tail = component.logTail();
  const inUse = /[^\n]*address already in use[^\n]*/.exec(tail);
  const cause = inUse ? ` because a port it needs is already in use (${inUse[0].trim()})` : '';
  const message =
    `control plane: ${component.name} ${component.exitState ?? 'stopped'} before ${what}${cause}; ` +
    `log ${component.logFile}:\n${tail}`;
  return inUse ? new PortInUseError(message) : new Error(message);
}
