// Starts a real relay (startRelay) on loopback with ephemeral ports, its own
// secrets/users files and a self-signed certificate, for protocol tests.
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { RelayConfigSchema, type RelayConfigInput } from '../../../../relay/config/schema.js';
import { generateSelfSignedCert } from '../../../../relay/config/dev-defaults.js';
import { startRelay, type RelayServer } from '../../../../relay/main.js';
import { createLogger, type Logger } from '../../../../shared/log.js';

export const SECRET = 'test-shared-secret-1';
export const USER = 'alice';
export const PASSWORD = 'alice-password';

export interface TestRelay {
  relay: RelayServer;
  dir: string;
  certPem: string;
  configFile: string;
  port(protocol: 'udp' | 'tcp' | 'tls'): number;
  stop(): Promise<void>;
}

type Overrides = Partial<Omit<RelayConfigInput, 'listeners'>> & { listeners?: RelayConfigInput['listeners'] };

/**
 * Loopback peers are allowed explicitly (the built-in policy denies them)
 * unless `peers` is overridden. `auth` overrides merge into the default auth
 * section; without a tls listener the tls section is dropped.
 */
export async function startTestRelay(overrides: Overrides = {}, log?: Logger): Promise<TestRelay> {
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-test-'));
  const { certPem, keyPem } = await generateSelfSignedCert();
  await writeFile(join(dir, 'tls.crt'), certPem);
  await writeFile(join(dir, 'tls.key'), keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'secrets'), `${SECRET}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'users'), `${USER}:${PASSWORD}\nbob:bob-password\n`, { mode: 0o600 });
  const input: RelayConfigInput = {
    realm: 'test.realm',
    listeners: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'tcp', host: '127.0.0.1', port: 0 },
      { protocol: 'tls', host: '127.0.0.1', port: 0 },
    ],
    tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
    relay: { host: '127.0.0.1', portRange: { min: 50000, max: 59999 } },
    peers: { allowCIDRs: ['127.0.0.0/8'] },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    ...overrides,
    auth: { secretsFile: join(dir, 'secrets'), usersFile: join(dir, 'users'), ...overrides.auth },
  };
  if (!input.listeners.some((l) => l.protocol === 'tls')) delete input.tls;
  const configFile = join(dir, 'relay.json');
  await writeFile(configFile, JSON.stringify(input));
  const config = RelayConfigSchema.parse(input);
  const relay = await startRelay({ config, configPath: configFile, log: log ?? createLogger('test-relay', 'silent') });
  return {
    relay,
    dir,
    certPem,
    configFile,
    port: (p) => relay.listeners.find((l) => l.protocol === p)!.port,
    stop: async () => {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type PeerDatagram = { data: Buffer; port: number; address: string };

/** A UDP peer on loopback that records what it receives and can send back. */
export async function startPeer(host = '127.0.0.1'): Promise<{
  socket: UdpSocket;
  address: string;
  port: number;
  received: PeerDatagram[];
  next(timeoutMs?: number): Promise<PeerDatagram>;
  close(): void;
}> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  const received: PeerDatagram[] = [];
  let wake: (() => void) | null = null;
  socket.on('message', (data, rinfo) => {
    received.push({ data, port: rinfo.port, address: rinfo.address });
    wake?.();
  });
  return {
    socket,
    address: host,
    port: socket.address().port,
    received,
    async next(timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('peer received nothing');
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      return received.shift()!;
    },
    close: () => socket.close(),
  };
}

export async function metricsText(relay: RelayServer): Promise<string> {
  const res = await fetch(`http://${relay.admin.host}:${relay.admin.port}/metrics`);
  return res.text();
}

/** Reads one sample value from Prometheus text, e.g. metricValue(text, 'turnrelay_auth_total{result="stale_nonce"}'). */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** How much one sample grew between two scrapes of the same relay. */
export function metricDelta(before: string, after: string, series: string): number {
  return metricValue(after, series) - metricValue(before, series);
}

// Unref: a pending sleep in a lost Promise.race must not keep Jest alive.
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
