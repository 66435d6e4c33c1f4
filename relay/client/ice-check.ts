// Checks ICE server URLs the way a browser uses them: for a turn:/turns: URL,
// an allocation over that transport, a second allocation on the same relay
// (the "remote peer"), permissions both ways, and a relayed round trip
// between them; for a stun: URL, a Binding. Each URL gets one row: result,
// relayed (or reflexive) address and round-trip time, or the reason it failed.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { TurnClient, TurnClientError, type ClientTransport } from './turn-client.js';
import type { TransportAddress } from '../stun/attributes/xor-address.js';

export interface IceUrl {
  url: string;
  scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  host: string;
  port: number;
  transport: ClientTransport;
}

/** Parses an RFC 7064/7065 URI (stun:, stuns:, turn:, turns:). Throws with a readable message. */
export function parseIceUrl(url: string): IceUrl {
  const m = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^\s:?[\]]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(
    url.trim(),
  );
  if (!m)
    throw new Error(
      `invalid ICE server URL "${url}" (expected turn:HOST[:PORT][?transport=udp|tcp], turns:..., stun:...)`,
    );
  const scheme = m[1]!.toLowerCase() as IceUrl['scheme'];
  const secure = scheme.endsWith('s');
  const requested = m[4]?.toLowerCase() as 'udp' | 'tcp' | undefined;
  if (secure && requested === 'udp')
    throw new Error(`"${url}": ${scheme}: runs over TLS, so transport=udp is not possible (DTLS is not supported)`);
  const transport: ClientTransport = secure ? 'tls' : (requested ?? 'udp');
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  if (port < 1 || port > 65535) throw new Error(`"${url}": port ${port} out of range`);
  return { url, scheme, host: m[2]!.replace(/^\[|\]$/g, ''), port, transport };
}

export type CheckReason =
  | 'ok'
  | 'DNS'
  | 'connect'
  | 'TLS name mismatch'
  | 'TLS certificate'
  | 'timeout'
  | '401'
  | '403'
  | 'peer refused'
  | 'error';

export interface CheckResult {
  url: string;
  transport: ClientTransport;
  reason: CheckReason;
  detail: string;
  /** Relayed address (turn) or reflexive address (stun). */
  address?: string;
  rttMs?: number;
}

export interface CheckCredentials {
  username: string;
  credential: string;
}

export interface CheckOptions {
  timeoutMs: number;
  /** Trusted CA certificates for turns: (default: the system store). */
  ca?: string;
}

const formatAddress = (a: TransportAddress) =>
  a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;

function reasonOf(err: unknown, step: 'allocate' | 'permission' | 'data'): { reason: CheckReason; detail: string } {
  if (!(err instanceof TurnClientError)) return { reason: 'error', detail: (err as Error).message };
  const detail = err.message;
  switch (err.kind) {
    case 'dns':
      return { reason: 'DNS', detail };
    case 'connect':
      return { reason: 'connect', detail };
    case 'tls-name':
      return { reason: 'TLS name mismatch', detail };
    case 'tls-certificate':
      return { reason: 'TLS certificate', detail };
    case 'timeout':
      return { reason: 'timeout', detail };
    case 'stun-error':
      if (err.code === 401) return { reason: '401', detail: `${detail} (wrong or expired credentials)` };
      // A 403 on CreatePermission is the relay's peer policy refusing the address.
      if (err.code === 403)
        return step === 'permission' ? { reason: 'peer refused', detail } : { reason: '403', detail };
      return { reason: 'error', detail };
    default:
      return { reason: 'error', detail };
  }
}

async function checkTurn(u: IceUrl, creds: CheckCredentials, opts: CheckOptions): Promise<CheckResult> {
  const server = { transport: u.transport, host: u.host, port: u.port, ...(opts.ca ? { ca: opts.ca } : {}) };
  const clients: TurnClient[] = [];
  let step: 'allocate' | 'permission' | 'data' = 'allocate';
  let address: string | undefined;
  try {
    const a = await TurnClient.connect(server, opts.timeoutMs);
    clients.push(a);
    const relayedA = await a.allocate(creds.username, creds.credential);
    address = formatAddress(relayedA);
    const b = await TurnClient.connect(server, opts.timeoutMs);
    clients.push(b);
    const relayedB = await b.allocate(creds.username, creds.credential);
    step = 'permission';
    await Promise.all([a.createPermission(relayedB), b.createPermission(relayedA)]);
    step = 'data';
    const ping = randomBytes(16);
    const started = performance.now();
    a.send(relayedB, ping);
    const atB = await b.nextData();
    if (!atB.data.equals(ping)) throw new TurnClientError('protocol', 'relayed data arrived altered');
    b.send(relayedA, atB.data);
    const back = await a.nextData();
    const rttMs = performance.now() - started;
    if (!back.data.equals(ping)) throw new TurnClientError('protocol', 'relayed data came back altered');
    return {
      url: u.url,
      transport: u.transport,
      reason: 'ok',
      detail: 'allocation, permission and relayed round trip',
      address,
      rttMs,
    };
  } catch (err) {
    const { reason, detail } = reasonOf(err, step);
    return {
      url: u.url,
      transport: u.transport,
      reason,
      detail: step === 'data' && reason === 'timeout' ? `${detail} (relayed round trip lost)` : detail,
      ...(address ? { address } : {}),
    };
  } finally {
    for (const c of clients) c.close();
  }
}

async function checkStun(u: IceUrl, opts: CheckOptions): Promise<CheckResult> {
  let client: TurnClient | undefined;
  try {
    client = await TurnClient.connect(
      { transport: u.transport, host: u.host, port: u.port, ...(opts.ca ? { ca: opts.ca } : {}) },
      opts.timeoutMs,
    );
    const started = performance.now();
    const reflexive = await client.binding();
    return {
      url: u.url,
      transport: u.transport,
      reason: 'ok',
      detail: 'binding',
      address: formatAddress(reflexive),
      rttMs: performance.now() - started,
    };
  } catch (err) {
    return { url: u.url, transport: u.transport, ...reasonOf(err, 'allocate') };
  } finally {
    client?.close();
  }
}

/** Checks each URL in turn (sequentially, as they would be tried, and to keep the load small). */
export async function checkIceServers(
  urls: string[],
  creds: CheckCredentials | undefined,
  opts: CheckOptions,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const url of urls) {
    let u: IceUrl;
    try {
      u = parseIceUrl(url);
    } catch (err) {
      results.push({ url, transport: 'udp', reason: 'error', detail: (err as Error).message });
      continue;
    }
    if (u.scheme.startsWith('turn') && !creds) {
      results.push({ url, transport: u.transport, reason: 'error', detail: 'no credentials to allocate with' });
      continue;
    }
    results.push(u.scheme.startsWith('turn') ? await checkTurn(u, creds!, opts) : await checkStun(u, opts));
  }
  return results;
}

/** The table `turnrelay check` prints: URL, transport, result, relayed address, RTT. */
export function formatCheckTable(results: CheckResult[]): string {
  const rows = [
    ['URL', 'TRANSPORT', 'RESULT', 'RELAYED ADDRESS', 'RTT'],
    ...results.map((r) => [
      r.url,
      r.transport,
      r.reason === 'ok' ? 'ok' : `FAIL: ${r.reason}`,
      r.address ?? '-',
      r.rttMs !== undefined ? `${r.rttMs.toFixed(1)} ms` : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return (
    rows
      .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
      .join('\n') + '\n'
  );
}
