// Parsers for the mounted auth files. Errors name the line, never its content
// (it is a secret or a password), except for user names, which are not secret.

export class AuthFileError extends Error {
  override name = 'AuthFileError';
}

/** More shared secrets than this only costs HMACs per request: rotation needs two or three. */
export const MAX_SECRETS = 32;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function* contentLines(text: string): Generator<[lineNo: number, line: string]> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    yield [i + 1, line];
  }
}

/** One secret per line, signing secret first; blank lines and # comments ignored; duplicates dropped. */
export function parseSecretsFile(text: string): string[] {
  const secrets: string[] = [];
  for (const [lineNo, line] of contentLines(text)) {
    if (CONTROL.test(line)) throw new AuthFileError(`secrets file line ${lineNo}: contains control characters`);
    if (!secrets.includes(line)) secrets.push(line);
  }
  if (secrets.length > MAX_SECRETS) {
    throw new AuthFileError(
      `secrets file has ${secrets.length} secrets; at most ${MAX_SECRETS} are allowed (remove retired ones)`,
    );
  }
  return secrets;
}

/** "name:password" per line (the password may contain ':'); blank lines and # comments ignored. */
export function parseUsersFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const [lineNo, line] of contentLines(text)) {
    if (CONTROL.test(line)) throw new AuthFileError(`users file line ${lineNo}: contains control characters`);
    const colon = line.indexOf(':');
    if (colon === -1) throw new AuthFileError(`users file line ${lineNo}: expected "name:password"`);
    const name = line.slice(0, colon);
    const password = line.slice(colon + 1);
    if (name === '') throw new AuthFileError(`users file line ${lineNo}: empty user name`);
    if (password === '') throw new AuthFileError(`users file line ${lineNo}: empty password for user "${name}"`);
    if (Buffer.byteLength(name) > 512)
      throw new AuthFileError(`users file line ${lineNo}: user name longer than 512 bytes`);
    if (users.has(name)) throw new AuthFileError(`users file line ${lineNo}: duplicate user "${name}"`);
    users.set(name, password);
  }
  return users;
}
