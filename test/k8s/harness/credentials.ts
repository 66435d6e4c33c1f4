// Credentials made fresh for each control plane: bearer tokens for the admin
// and the controller manager (both system:masters, via --token-auth-file), and
// the key pair that signs service-account tokens.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ControlPlaneCredentials {
  adminToken: string;
  controllerManagerToken: string;
  /** kubelet, kube-proxy and kube-scheduler of the test node (system:masters: one trusted node). */
  nodeToken: string;
  tokenFile: string;
  serviceAccountPrivateKeyFile: string;
  serviceAccountPublicKeyFile: string;
}

const newToken = (): string => randomBytes(32).toString('base64url');

/** One line of kube-apiserver's static token file: token,user,uid,"group,...". */
function tokenLine(token: string, user: string, groups: string[]): string {
  return `${token},${user},${randomUUID()},"${groups.join(',')}"`;
}

export async function writeCredentials(dir: string): Promise<ControlPlaneCredentials> {
  const adminToken = newToken();
  const controllerManagerToken = newToken();
  const nodeToken = newToken();
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(
    tokenFile,
    [
      tokenLine(adminToken, 'turnrelay-test-admin', ['system:masters']),
      // Its own user name shows up in audit/managedFields; system:masters
      // because without per-controller service accounts it acts for all of them.
      tokenLine(controllerManagerToken, 'system:kube-controller-manager', ['system:masters']),
      tokenLine(nodeToken, 'turnrelay-test-node', ['system:masters']),
    ].join('\n') + '\n',
    { mode: 0o600 },
  );

  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountPrivateKeyFile = join(dir, 'sa.key');
  const serviceAccountPublicKeyFile = join(dir, 'sa.pub');
  await writeFile(serviceAccountPrivateKeyFile, privateKey, { mode: 0o600 });
  await writeFile(serviceAccountPublicKeyFile, publicKey);

  return {
    adminToken,
    controllerManagerToken,
    nodeToken,
    tokenFile,
    serviceAccountPrivateKeyFile,
    serviceAccountPublicKeyFile,
  };
}
