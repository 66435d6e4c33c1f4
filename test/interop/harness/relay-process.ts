// Our relay as a separate process through its CLI (`turnrelay relay
// --config FILE`), found ready by the contract's "relay started" JSON line.
// Tests run it from sources with tsx; the benchmark runs the built dist/.
import type { ChildSet, StartedChild } from './children.js';
import type { ListenerProtocol } from './relay-config-files.js';
import { findRepoRoot } from './repo-root.js';
import { waitForStunBinding } from './stun-probe.js';

export interface RelayCommand {
  file: string;
  args: string[];
}

const repoRoot = findRepoRoot(import.meta.url);

export const relayFromSources: RelayCommand = {
  file: `${repoRoot}node_modules/.bin/tsx`,
  args: [`${repoRoot}cli/turnrelay.ts`],
};
export const relayFromBuild: RelayCommand = { file: process.execPath, args: [`${repoRoot}dist/cli/turnrelay.js`] };

interface StartedLine {
  listeners: Array<{ protocol: ListenerProtocol; host: string; port: number }>;
  admin: { host: string; port: number };
}

export interface RelayProcess {
  child: StartedChild;
  endpoint(protocol: ListenerProtocol): { host: string; port: number };
  admin: { host: string; port: number };
  metrics: () => Promise<string>;
  close(): Promise<void>;
}

export async function startRelayProcess(
  children: ChildSet,
  command: RelayCommand,
  configPath: string,
): Promise<RelayProcess> {
  const child = children.start(command.file, [...command.args, 'relay', '--config', configPath], { cwd: repoRoot });
  const line = await child.waitForOutput(/^\{.*"msg":"relay started".*\}$/m, 45_000);
  const started = JSON.parse(line[0]) as StartedLine;
  const endpoint = (protocol: ListenerProtocol) => {
    const listener = started.listeners.find((l) => l.protocol === protocol);
    if (!listener) throw new Error(`relay started without a ${protocol} listener: ${line[0]}`);
    return { host: listener.host, port: listener.port };
  };
  const udp = started.listeners.find((l) => l.protocol === 'udp');
  if (udp) await waitForStunBinding(udp.host, udp.port, 10_000);
  const metricsUrl = `http://${started.admin.host}:${started.admin.port}/metrics`;
  return {
    child,
    endpoint,
    admin: started.admin,
    async metrics() {
      const response = await fetch(metricsUrl);
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return response.text();
    },
    close: () => child.stop(),
  };
}
