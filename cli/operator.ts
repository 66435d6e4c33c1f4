// `turnrelay operator`: runs the controller until SIGTERM/SIGINT, then drains
// in-flight reconciles, releases the leader lease and exits 0.
import { parseArgs } from 'node:util';
import { createLogger } from '../shared/log.js';
import { DEFAULT_CREDENTIALS_SERVICE, serviceDnsNames } from '../operator/credentials-api/serving-cert.js';
import { DEFAULT_RELAY_IMAGE, startOperator, type CredentialsApiSettings } from '../operator/main.js';
import { loadKubeConfig } from '../operator/runtime/kube-rest.js';

const USAGE = `usage: turnrelay operator [options]

  --kubeconfig FILE      kubeconfig (default: in-cluster config, else $KUBECONFIG / ~/.kube/config)
  --namespace NS         watch TurnRelays in one namespace only (default: all namespaces)
  --relay-image IMAGE    relay container image (default ${DEFAULT_RELAY_IMAGE})
  --metrics-port PORT    /metrics, /healthz, /readyz port (default 8080; 0 picks a free one)
  --metrics-host HOST    address the admin endpoints bind (default 0.0.0.0)
  --leader-elect         elect a leader through a Lease so only one replica writes
  --lease-namespace NS   namespace of the Lease (default: $POD_NAMESPACE, else the kubeconfig's namespace)
  --workers N            concurrent reconciles (default 2)

Credentials API (HTTPS; ServiceAccount tokens for audience turnrelay.dev/credentials):
  --credentials-port PORT     port (default 8443; 0 picks a free one)
  --credentials-host HOST     address it binds (default 0.0.0.0)
  --credentials-tls-cert FILE serving certificate (with --credentials-tls-key; re-read when it changes)
  --credentials-tls-key FILE  its private key
  --credentials-service NAME  the Service in front of it (default turnrelay-operator-credentials); without
                              cert files, a self-signed certificate for its DNS names is kept in Secret
                              NAME-tls and published in ConfigMap NAME-ca of the operator's namespace
  --disable-credentials-api   do not serve it
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'relay-image': { type: 'string' },
        'metrics-port': { type: 'string', default: '8080' },
        'metrics-host': { type: 'string', default: '0.0.0.0' },
        'leader-elect': { type: 'boolean', default: false },
        'lease-namespace': { type: 'string' },
        workers: { type: 'string', default: '2' },
        'credentials-port': { type: 'string', default: '8443' },
        'credentials-host': { type: 'string', default: '0.0.0.0' },
        'credentials-tls-cert': { type: 'string' },
        'credentials-tls-key': { type: 'string' },
        'credentials-service': { type: 'string', default: DEFAULT_CREDENTIALS_SERVICE },
        'disable-credentials-api': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`turnrelay operator: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = Number(values['metrics-port']);
  const workers = Number(values.workers);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `turnrelay operator: --metrics-port must be a port number (got "${values['metrics-port']}")\n`,
    );
    return 2;
  }
  const credentialsPort = Number(values['credentials-port']);
  if (!Number.isInteger(credentialsPort) || credentialsPort < 0 || credentialsPort > 65535) {
    process.stderr.write(
      `turnrelay operator: --credentials-port must be a port number (got "${values['credentials-port']}")\n`,
    );
    return 2;
  }
  if ((values['credentials-tls-cert'] === undefined) !== (values['credentials-tls-key'] === undefined)) {
    process.stderr.write('turnrelay operator: --credentials-tls-cert and --credentials-tls-key go together\n');
    return 2;
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    process.stderr.write(`turnrelay operator: --workers must be between 1 and 64 (got "${values.workers}")\n`);
    return 2;
  }

  const kc = loadKubeConfig(values.kubeconfig);
  const log = createLogger('operator');
  const leaseNamespace =
    values['lease-namespace'] ??
    process.env.POD_NAMESPACE ??
    kc.getContextObject(kc.getCurrentContext())?.namespace ??
    'default';

  const service = values['credentials-service'];
  const credentialsApi: CredentialsApiSettings | undefined = values['disable-credentials-api']
    ? undefined
    : {
        host: values['credentials-host'],
        port: credentialsPort,
        tls:
          values['credentials-tls-cert'] && values['credentials-tls-key']
            ? { certFile: values['credentials-tls-cert'], keyFile: values['credentials-tls-key'] }
            : {
                bootstrap: {
                  namespace: leaseNamespace,
                  secretName: `${service}-tls`,
                  caConfigMapName: `${service}-ca`,
                  dnsNames: serviceDnsNames(service, leaseNamespace),
                },
              },
      };

  const handle = await startOperator({
    kubeConfig: kc,
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values['relay-image'] ? { image: values['relay-image'] } : {}),
    admin: { host: values['metrics-host'], port },
    ...(values['leader-elect']
      ? {
          leaderElection: {
            namespace: leaseNamespace,
            ...(process.env.POD_NAME ? { identity: process.env.POD_NAME } : {}),
          },
        }
      : {}),
    workers,
    log,
    ...(credentialsApi ? { credentialsApi } : {}),
  });

  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  await handle.stop();
  return 0;
}
