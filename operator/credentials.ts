// `turnrelay credentials --namespace N --name RELAY`: mints a TURN REST
// credential for a TurnRelay from its auth Secret, read through the API (so
// kubectl-style RBAC decides who may mint), with the ICE server URLs the
// operator published in the TurnRelay's status.
import { parseSecretsFile } from '../shared/auth-files.js';
import { iceConfiguration, type IceConfiguration } from '../relay/auth/rest-credentials.js';
import type { TurnRelay } from './api/turnrelay.js';
import { validateTurnRelay } from './api/validate.js';
import { SECRETS_KEY } from './render/auth-secret.js';
import { authSecretNameFor } from './render/names.js';
import { KubeRest, isNotFound, loadKubeConfig } from './runtime/kube-rest.js';
import { SECRET_KIND, TURNRELAY_KIND, objectPath } from './runtime/resources.js';

export interface MintOptions {
  namespace: string;
  name: string;
  user?: string;
  ttlSeconds: number;
  kubeconfig?: string;
  /** Override the status' ICE server URLs. */
  urls?: string[];
  now?: number;
}

/** The name the operator gives the auth Secret, for a TurnRelay it has not reported on yet. */
function authSecretNameOf(relay: unknown, where: string): string {
  const checked = validateTurnRelay(relay);
  if (!checked.ok) throw new Error(`TurnRelay ${where} is invalid (${checked.issues.map((i) => `${i.field}: ${i.message}`).join('; ')})`);
  return authSecretNameFor(checked.relay);
}

export async function mintFromCluster(opts: MintOptions): Promise<IceConfiguration> {
  const rest = await KubeRest.fromKubeConfig(loadKubeConfig(opts.kubeconfig));
  try {
    const where = `${opts.namespace}/${opts.name}`;
    let relay: Partial<TurnRelay>;
    try {
      relay = await rest.get<TurnRelay>(objectPath(TURNRELAY_KIND, opts.namespace, opts.name));
    } catch (err) {
      if (isNotFound(err)) throw new Error(`TurnRelay ${where} not found`);
      throw err;
    }
    const secretName = relay.status?.authSecretName ?? authSecretNameOf(relay, where);
    const urls = opts.urls?.length ? opts.urls : (relay.status?.iceServers ?? []);
    if (urls.length === 0) throw new Error(`TurnRelay ${where} has no ICE servers in its status yet (is it Ready?); pass --urls to choose them`);
    let secret: { data?: Record<string, string> };
    try {
      secret = await rest.get(objectPath(SECRET_KIND, opts.namespace, secretName));
    } catch (err) {
      if (isNotFound(err)) throw new Error(`auth Secret ${opts.namespace}/${secretName} of TurnRelay ${where} not found`);
      throw err;
    }
    const encoded = secret.data?.[SECRETS_KEY];
    const signing = encoded ? parseSecretsFile(Buffer.from(encoded, 'base64').toString('utf8'))[0] : undefined;
    if (!signing) throw new Error(`auth Secret ${opts.namespace}/${secretName} has no shared secret under key "${SECRETS_KEY}"`);
    return iceConfiguration(signing, { urls, ttlSeconds: opts.ttlSeconds, ...(opts.user ? { user: opts.user } : {}), ...(opts.now !== undefined ? { now: opts.now } : {}) });
  } finally {
    rest.close();
  }
}
