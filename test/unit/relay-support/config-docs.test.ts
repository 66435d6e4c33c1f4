// Keeps docs/relay-config.md honest: every config field, every peer refusal
// label and every built-in range must be documented.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { RelayConfigSchema } from '../../../relay/config/schema.js';
import { PEER_DENY_REASONS } from '../../../relay/policy/peer-policy.js';
import { IPV4_SPECIAL, IPV6_SPECIAL } from '../../../relay/policy/special-purpose.js';

const doc = readFileSync(new URL('../../../docs/relay-config.md', import.meta.url), 'utf8');

type Def = {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
};

function leafPaths(schema: z.ZodType, prefix: string): string[] {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
      return leafPaths(def.innerType as z.ZodType, prefix);
    case 'pipe':
      return leafPaths(def.in as z.ZodType, prefix);
    case 'array':
      return def.element && (def.element as unknown as { _zod: { def: Def } })._zod.def.type === 'object'
        ? leafPaths(def.element, `${prefix}[]`)
        : [prefix];
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
    default:
      return [prefix];
  }
}

test('every config field is documented', () => {
  const paths = leafPaths(RelayConfigSchema, '');
  expect(paths.length).toBeGreaterThan(35);
  const missing = paths.filter((p) => !doc.includes(`\`${p}\``));
  expect(missing).toEqual([]);
});

test('every peer refusal label and every built-in range is documented', () => {
  expect(PEER_DENY_REASONS.filter((r) => !doc.includes(`\`${r}\``))).toEqual([]);
  expect([...IPV4_SPECIAL, ...IPV6_SPECIAL].map((r) => r.cidr).filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
});
