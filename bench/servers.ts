// The two TURN servers under comparison, each as its own process on one
// loopback address with long-term user auth, UDP listener only, loopback
// peers allowed: ours through the built CLI (dist/cli.js), and coturn.
import { fileURLToPath } from 'node:url';
import type { ChildSet, StartedChild } from '../test/interop/harness/children.js';
import { startCoturn } from '../test/interop/harness/coturn-server.js';
import { writeRelayFiles } from '../test/interop/harness/relay-config-files.js';
import { waitForStunBinding } from '../test/interop/harness/stun-probe.js';

export interface ServerUnderTest {
  name: 'turnrelay' | 'coturn';
  child: StartedChild;
  pid: number;
  host: string;
  port: number;
  portRange: { min: number; max: number };
  /** Prometheus text, for servers that expose it. */
  metrics?: () => Promise<string>;
}

export const benchUser = { name: 'bench', password: 'bench-password-not-secret' };

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function startOurRelayProcess(
  children: ChildSet,
  options: { dir: string; host: string; portRange: { min: number; max: number } },
): Promise<ServerUnderTest> {
  const { configPath } = await writeRelayFiles({
    dir: options.dir,
    host: options.host,
    listeners: ['udp'],
    users: { [benchUser.name]: benchUser.password },
    portRange: options.portRange,
    allowCIDRs: [`${options.host}/32`],
    // The memory run opens 1,000 allocations for one user from one address.
    limits: { maxAllocations: 10000, maxAllocationsPerUser: 100000 },
    logLevel: 'info',
  });
  const child = children.start(process.execPath, [`${repoRoot}dist/cli.js`, 'relay', '--config', configPath], { cwd: repoRoot });
  const line = await child.waitForOutput(/^\{.*"relay started".*\}$/m, 20_000);
  const started = JSON.parse(line[0]) as { listeners: Array<{ protocol: string; host: string; port: number }>; admin: { host: string; port: number } };
  const udp = started.listeners.find((l) => l.protocol === 'udp');
  if (!udp) throw new Error(`relay started without a udp listener: ${line[0]}`);
  await waitForStunBinding(udp.host, udp.port, 10_000);
  const metricsUrl = `http://${started.admin.host}:${started.admin.port}/metrics`;
  return {
    name: 'turnrelay', child, pid: child.pid, host: udp.host, port: udp.port, portRange: options.portRange,
    metrics: async () => (await fetch(metricsUrl)).text(),
  };
}

export async function startCoturnProcess(
  children: ChildSet,
  options: { dir: string; host: string; portRange: { min: number; max: number } },
): Promise<ServerUnderTest> {
  const server = await startCoturn(children, {
    dir: options.dir, host: options.host, realm: 'bench.turnrelay.test', portRange: options.portRange,
    users: { [benchUser.name]: benchUser.password },
  });
  return { name: 'coturn', child: server.child, pid: server.child.pid, host: options.host, port: server.port, portRange: options.portRange };
}
