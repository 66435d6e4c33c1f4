// Minting TURN REST credentials for a TurnRelay from its auth Secret, with the
// ICE server URLs the operator published in the TurnRelay's status. The
// credentials API (credentials-api/) mints this way for callers RBAC allows;
// `turnrelay credentials --namespace N --name RELAY` falls back to it (reading
// the Secret with the user's own kubeconfig) when the API is not reachable.
import { parseSecretsFile } from '../shared/auth-files.js';
import { iceConfiguration, type IceConfiguration } from '../relay/auth/rest-credentials.js';
import type { TurnRelay } from './api/turnrelay.js';
import { validateTurnRelay } from './api/validate.js';
import { SECRETS_KEY } from './render/auth-secret.js';
import { authSecretNameFor } from './render/names.js';
import { KubeRest, isNotFound, loadKubeConfig } from './runtime/kube-rest.js';
import { SECRET_KIND, TURNRELAY_KIND, objectPath } from './runtime/resources.js';

/** A relay that cannot mint yet (not found, invalid, no ICE servers, no Secret): `notFound` tells the first case apart. */
export class MintError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

/** The name the operator gives the auth Secret, for a TurnRelay it has not reported on yet. */
function authSecretNameOf(relay: unknown, where: string): string {
  const checked = validateTurnRelay(relay);
  if (!checked.ok)
    throw new MintError(
      `TurnRelay ${where} is invalid (${checked.issues.map((i) => `${i.field}: ${i.message}`).join('; ')})`,
    );
  return authSecretNameFor(checked.relay);
}

export interface MintSource {
  relay: Partial<TurnRelay>;
  urls: string[];
  signingSecret: string;
}

/** Reads what minting needs: the TurnRelay, its status' ICE servers (unless `urls` overrides them) and its signing secret. */
export async function readMintSource(
  rest: KubeRest,
  namespace: string,
  name: string,
  urls?: string[],
): Promise<MintSource> {
  const where = `${namespace}/${name}`;
  let relay: Partial<TurnRelay>;
  try {
    relay = await rest.get<TurnRelay>(objectPath(TURNRELAY_KIND, namespace, name));
  } catch (err) {
    if (isNotFound(err)) throw new MintError(`TurnRelay ${where} not found`, true);
    throw err;
  }
  const secretName = relay.status?.authSecretName ?? authSecretNameOf(relay, where);
  const chosen = urls?.length ? urls : (relay.status?.iceServers ?? []);
  if (chosen.length === 0)
    throw new MintError(`TurnRelay ${where} has no ICE servers in its status yet (is it Ready?)`);
  let secret: { data?: Record<string, string> };
  try {
    secret = await rest.get(objectPath(SECRET_KIND, namespace, secretName));
  } catch (err) {
    if (isNotFound(err)) throw new MintError(`auth Secret ${namespace}/${secretName} of TurnRelay ${where} not found`);
    throw err;
  }
  const encoded = secret.data?.[SECRETS_KEY];
  const signing = encoded ? parseSecretsFile(Buffer.from(encoded, 'base64').toString('utf8'))[0] : undefined;
  if (!signing)
    throw new MintError(`auth Secret ${namespace}/${secretName} has no shared secret under key "${SECRETS_KEY}"`);
  return { relay, urls: chosen, signingSecret: signing };
}

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

export async function mintFromCluster(opts: MintOptions): Promise<IceConfiguration> {
  const rest = await KubeRest.fromKubeConfig(loadKubeConfig(opts.kubeconfig));
  try {
    const source = await readMintSource(rest, opts.namespace, opts.name, opts.urls);
    return iceConfiguration(source.signingSecret, {
      urls: source.urls,
      ttlSeconds: opts.ttlSeconds,
      ...(opts.user ? { user: opts.user } : {}),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
  } finally {
    rest.close();
  }
}
