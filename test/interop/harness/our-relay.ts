// Our relay, started in-process through the startRelay contract with config
// files written by writeRelayFiles, for the interop tests.
import { readFile } from 'node:fs/promises';
import { startRelay } from '../../../relay/main.js';
import { RelayConfigSchema } from '../../../relay/config/schema.js';
import { writeRelayFiles, type ListenerProtocol, type RelayFilesOptions } from './relay-config-files.js';

type RelayServer = Awaited<ReturnType<typeof startRelay>>;

export interface TestRelay {
  server: RelayServer;
  endpoint(protocol: ListenerProtocol): { host: string; port: number };
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestRelay(options: RelayFilesOptions): Promise<TestRelay> {
  const { configPath } = await writeRelayFiles(options);
  const config = RelayConfigSchema.parse(JSON.parse(await readFile(configPath, 'utf8')));
  const server = await startRelay({ config, configPath });
  return {
    server,
    endpoint(protocol) {
      const listener = server.listeners.find((l) => l.protocol === protocol);
      if (!listener) throw new Error(`relay has no ${protocol} listener`);
      return { host: listener.host, port: listener.port };
    },
    async metrics() {
      const response = await fetch(`http://${server.admin.host}:${server.admin.port}/metrics`);
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return response.text();
    },
    close: () => server.close(),
  };
}
