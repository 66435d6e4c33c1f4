#!/usr/bin/env node
// The one executable: `turnrelay relay|operator|credentials ...`. Each command
// lives in its own module and is loaded only when used, so running the relay
// never loads the Kubernetes client.
const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  relay: () => import('./relay.js'),
  operator: () => import('./operator.js'),
  credentials: () => import('./credentials.js'),
  check: () => import('./check.js'),
};

const USAGE = `usage: turnrelay <command> [options]

commands:
  relay [--config FILE]            run the TURN relay (no config: embedded dev defaults)
  operator [--kubeconfig FILE]     run the Kubernetes operator
  credentials --secrets-file F --user U [--ttl 1h] [--urls ...]
  credentials --namespace N --name RELAY --user U [--ttl 1h]
                                   mint TURN REST credentials as RTCConfiguration JSON
  check --namespace N --name RELAY | --urls URL,... (--username U --password P | --secrets-file F)
                                   try every ICE server URL like a browser; table; exit 1 on failure
`;

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`turnrelay: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return (await load()).run(rest);
}

main().then(
  // A finished command ends the process: a stopped operator or drained relay
  // must not linger on a watch or keep-alive socket still closing in the
  // background (stdout and stderr are synchronous for files and pipes here).
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`turnrelay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
