// Reads the relay config (YAML, or JSON which is YAML too) and validates it.
// Every problem is reported at once, each as "field.path: what is wrong", so
// an operator fixes the file in one go.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { RelayConfigSchema, type RelayConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid relay config ${source}:\n  ${problems.join('\n  ')}`);
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(`${formatPath([...issue.path, key])}: unknown field`);
    } else {
      problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return problems;
}

export function parseRelayConfig(text: string, source: string): RelayConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => `syntax: ${e.message.split('\n')[0]}`),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }); // bounded: no alias bombs
  } catch (err) {
    // e.g. an alias to an anchor that does not exist, or too many aliases
    throw new ConfigError(source, [`syntax: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (data === null || data === undefined) throw new ConfigError(source, ['(root): the file is empty']);
  const result = RelayConfigSchema.safeParse(data);
  if (!result.success) throw new ConfigError(source, formatZodIssues(result.error.issues));
  return result.data;
}

export async function loadRelayConfigFile(path: string): Promise<RelayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(path, [`cannot read the file (${code})`]);
  }
  return parseRelayConfig(text, path);
}
