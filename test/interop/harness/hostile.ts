// Shared by the hostile-client suites: a relay process on a random loopback
// address with one static user, TURN test clients that hold real
// allocations, and the end-of-test check that the relay is alive and serving.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildSet } from './children.js';
import { writeRelayFiles, type ListenerProtocol } from './relay-config-files.js';
import { relayFromSources, startRelayProcess, type RelayProcess } from './relay-process.js';
import { randomPortBlock } from './ports.js';
import { sumSamples } from './prometheus-text.js';
import { isSuccess, Method, TurnTestClient } from '../../unit/relay/helpers/turn-test-client.js';

export type DataPlaneKind = 'node' | 'native';

export const HOSTILE_USER = { name: 'hostile-alice', password: 'hostile-alice-password' };
export const HOSTILE_SECRET = 'hostile-rest-secret';

export interface HostileRelay {
  relay: RelayProcess;
  host: string;
  ca: string;
  client(transport: ListenerProtocol): Promise<TurnTestClient>;
  /** A client with an allocation, a permission for `peer` and channel 0x4000 bound to it. */
  boundClient(transport: ListenerProtocol, peer: { address: string; port: number }): Promise<TurnTestClient>;
}

export async function startHostileRelay(
  children: ChildSet,
  opts: {
    dir: string;
    host: string;
    dataPlane: DataPlaneKind;
    limits?: Record<string, number>;
    auth?: Record<string, number>;
  },
): Promise<HostileRelay> {
  const { configPath } = await writeRelayFiles({
    dir: opts.dir,
    host: opts.host,
    listeners: ['udp', 'tcp', 'tls'],
    users: { [HOSTILE_USER.name]: HOSTILE_USER.password },
    secrets: [HOSTILE_SECRET],
    portRange: randomPortBlock(),
    allowCIDRs: [`${opts.host}/32`],
    limits: opts.limits,
    auth: opts.auth,
    dataPlane: opts.dataPlane,
  });
  const relay = await startRelayProcess(children, relayFromSources, configPath);
  const ca = await readFile(join(opts.dir, 'tls.crt'), 'utf8');
  const client = (transport: ListenerProtocol) => {
    const { port } = relay.endpoint(transport);
    return transport === 'udp'
      ? TurnTestClient.udp(port, opts.host)
      : TurnTestClient.stream(transport, port, { host: opts.host, ca, servername: null });
  };
  return {
    relay,
    host: opts.host,
    ca,
    client,
    async boundClient(transport, peer) {
      const c = await client(transport);
      const allocated = await c.allocate(HOSTILE_USER.name, HOSTILE_USER.password);
      if (!isSuccess(allocated)) throw new Error(`allocate over ${transport} failed`);
      if (!isSuccess(await c.createPermission(peer))) throw new Error('CreatePermission failed');
      if (!isSuccess(await c.channelBind(0x4000, peer))) throw new Error('ChannelBind failed');
      return c;
    },
  };
}

/** The process has not exited, answers a Binding, grants a new allocation, and no socket handler threw. */
export async function expectAliveAndServing(h: HostileRelay): Promise<void> {
  const proc = h.relay.child.process;
  expect(proc.exitCode).toBeNull();
  expect(proc.signalCode).toBeNull();
  const c = await h.client('udp');
  try {
    expect(isSuccess(await c.transact(c.build(Method.Binding, [])))).toBe(true);
    expect(isSuccess(await c.allocate(HOSTILE_USER.name, HOSTILE_USER.password))).toBe(true);
    await c.refresh(0);
  } finally {
    c.close();
  }
  expect(sumSamples(await h.relay.metrics(), 'turnrelay_errors_total', { kind: 'handler' })).toBe(0);
}
