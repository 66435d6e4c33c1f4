// ICE servers as an application server gets them from the cluster
// (`turnrelay credentials --namespace/--name`), and the three TURN transports
// a browser test walks through.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/delivery/helm.js';
import type { PairResult } from '../interop/harness/chromium.js';
import { testKubeconfigPath } from './harness/cluster.js';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');

export type IceConfiguration = {
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
  expiresAt: string;
};

/** Runs the CLI against the test cluster for one TurnRelay. */
export async function mintWithCli(namespace: string, name: string, user: string): Promise<IceConfiguration> {
  const { stdout } = await run(
    process.execPath,
    [
      TSX,
      join(REPO_ROOT, 'cli/turnrelay.ts'),
      'credentials',
      '--namespace',
      namespace,
      '--name',
      name,
      '--user',
      user,
      '--ttl',
      '10m',
      '--kubeconfig',
      testKubeconfigPath(),
    ],
    { cwd: REPO_ROOT, env: process.env },
  );
  return JSON.parse(stdout) as IceConfiguration;
}

export const TRANSPORTS = [
  { name: 'udp', scheme: 'turn:', query: 'transport=udp' },
  { name: 'tcp', scheme: 'turn:', query: 'transport=tcp' },
  { name: 'tls', scheme: 'turns:', query: 'transport=tcp' },
] as const;

export type TurnTransport = (typeof TRANSPORTS)[number];

export function urlFor(ice: IceConfiguration, transport: TurnTransport): string {
  const url = ice.iceServers[0]!.urls.find((u) => u.startsWith(transport.scheme) && u.endsWith(transport.query));
  if (!url) throw new Error(`no ${transport.name} URL in ${JSON.stringify(ice.iceServers[0]!.urls)}`);
  return url;
}

/**
 * Both ends exchanged every message through relay candidates of the
 * transport. Bytes are summed over all pairs: under iceTransportPolicy
 * 'relay' each pair is a relay pair, and ICE may select another one after
 * the messages went through the first.
 */
export function expectRelayed(result: PairResult, transport: string, messages = 20): void {
  expect(result.echoes).toBe(messages);
  for (const end of [result.a, result.b]) {
    expect(end.local.candidateType).toBe('relay');
    expect(end.local.relayProtocol).toBe(transport);
    expect(end.allPairsBytesReceived).toBeGreaterThan(0);
  }
}
