// `turnrelay relay [--config FILE]`: runs the relay until SIGTERM/SIGINT,
// then drains (no new allocations, existing ones keep relaying until they end
// or drain.gracePeriodSeconds passes) and exits 0. Without --config it runs
// the embedded development setup on loopback and prints how to connect.
import { parseArgs } from 'node:util';
import { loadRelayConfigFile } from '../relay/config/load.js';
import { createDevSetup } from '../relay/config/dev-defaults.js';
import { mintRestCredential } from '../relay/auth/rest-credentials.js';
import { startRelay, type RelayServer } from '../relay/main.js';

const USAGE = `usage: turnrelay relay [--config FILE]

Runs the TURN relay (RFC 8656) with UDP, TCP and TLS listeners.

  --config FILE   relay config (YAML or JSON); watched and reloaded live.
                  Without it: development mode on 127.0.0.1 (UDP/TCP 3478,
                  TLS 5349, admin 9641) with a fresh shared secret and a
                  self-signed certificate; prints ICE servers and a credential.
  -h, --help      this help

On SIGTERM or SIGINT the relay stops taking allocations (/readyz/new-allocations
answers 503; /readyz stays 200 so Kubernetes keeps routing live calls to it),
keeps relaying until allocations end or the drain grace period passes, and
exits 0.
`;

function devBanner(relay: RelayServer, dev: Awaited<ReturnType<typeof createDevSetup>>): string {
  const cred = mintRestCredential(dev.secret, { user: 'dev', ttlSeconds: 24 * 3600 });
  const urls = relay.listeners.map((l) =>
    l.protocol === 'tls'
      ? `turns:${l.host}:${l.port}?transport=tcp`
      : `turn:${l.host}:${l.port}?transport=${l.protocol}`,
  );
  const rtcConfig = { iceServers: [{ urls, username: cred.username, credential: cred.password }] };
  return [
    '',
    'TurnRelay development relay (loopback only)',
    `  files (secret, certificate): ${dev.dir}`,
    `  metrics: http://${relay.admin.host}:${relay.admin.port}/metrics`,
    `  credential valid until ${cred.expiresAt.toISOString()}; RTCConfiguration:`,
    `  ${JSON.stringify(rtcConfig)}`,
    '  mint more:',
    `  npx turnrelay credentials --secrets-file ${dev.secretsFile} --user alice --ttl 1h`,
    '',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`turnrelay relay: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let relay: RelayServer;
  if (values.config) {
    const config = await loadRelayConfigFile(values.config);
    relay = await startRelay({ config, configPath: values.config });
  } else {
    const dev = await createDevSetup();
    relay = await startRelay({ config: dev.config });
    // The banner goes to stderr so stdout stays one JSON log record per line.
    process.stderr.write(devBanner(relay, dev));
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`turnrelay relay: ${signal} received, draining\n`);
      relay
        .drain()
        .then(() => relay.close())
        .then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
