// Reads the configured auth files in one step, for startup and for every
// reload. A missing users file means "no static users": the operator always
// points usersFile at the auth Secret's optional "users" key, which Kubernetes
// simply leaves out when the key is absent. A missing secrets file, or files
// that leave no way to authenticate at all, are errors, so a bad reload is
// rejected and the credentials already loaded keep working.
import { readFile } from 'node:fs/promises';
import { AuthFileError, parseSecretsFile, parseUsersFile } from '../../shared/auth-files.js';

export interface AuthFiles {
  secrets: string[];
  users: Map<string, string>;
}

async function readOptional(path: string, optional: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (optional && code === 'ENOENT') return undefined;
    throw new AuthFileError(`cannot read ${path} (${code ?? (err as Error).message})`);
  }
}

function withPath<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new AuthFileError(`${path}: ${(err as Error).message}`);
  }
}

export async function readAuthFiles(auth: {
  secretsFile?: string | undefined;
  usersFile?: string | undefined;
}): Promise<AuthFiles> {
  const secretsText = auth.secretsFile ? await readOptional(auth.secretsFile, false) : undefined;
  const usersText = auth.usersFile ? await readOptional(auth.usersFile, true) : undefined;
  const secrets =
    secretsText === undefined ? [] : withPath(auth.secretsFile as string, () => parseSecretsFile(secretsText));
  const users =
    usersText === undefined
      ? new Map<string, string>()
      : withPath(auth.usersFile as string, () => parseUsersFile(usersText));
  if (secrets.length === 0 && users.size === 0) {
    const files = [auth.secretsFile, auth.usersFile].filter(Boolean).join(' and ');
    throw new AuthFileError(
      `no credentials: ${files || 'no auth file is configured'} ${files ? 'hold no shared secret and no user' : ''}`.trim(),
    );
  }
  return { secrets, users };
}
