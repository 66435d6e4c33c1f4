// Reads the auth files named in the config into a CredentialStore.
import { readFile } from 'node:fs/promises';
import type { RelayConfig } from './config/schema.js';
import type { CredentialStore } from './auth/credential-store.js';
import { parseSecretsFile, parseUsersFile } from './auth/files.js';

export interface AuthMaterial {
  secrets: string[];
  users: Map<string, string>;
}

async function readNamed(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Throws (with file name and line, never the secret) when a file is missing or malformed. */
export async function readAuthMaterial(auth: RelayConfig['auth']): Promise<AuthMaterial> {
  const withFile = (path: string, fn: () => AuthMaterial[keyof AuthMaterial]) => {
    try {
      return fn();
    } catch (err) {
      throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const secretsText = auth.secretsFile ? await readNamed(auth.secretsFile, 'secrets file') : undefined;
  const usersText = auth.usersFile ? await readNamed(auth.usersFile, 'users file') : undefined;
  const secrets = secretsText === undefined ? [] : withFile(auth.secretsFile!, () => parseSecretsFile(secretsText)) as string[];
  const users = usersText === undefined ? new Map<string, string>() : withFile(auth.usersFile!, () => parseUsersFile(usersText)) as Map<string, string>;
  return { secrets, users };
}

export function applyAuthMaterial(store: CredentialStore, m: AuthMaterial): void {
  store.setSecrets(m.secrets);
  store.setUsers(m.users);
}
