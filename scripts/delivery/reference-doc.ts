// Renders docs/turnrelay-reference.md from the TurnRelay CRD schema, which
// operator/api/crd.ts derives from the zod schema: every description in the
// reference is the one written next to the field in zod, so the docs, the CRD
// and `kubectl explain` never disagree.
import { turnRelayCrd } from '../../operator/api/crd.js';

export const REFERENCE_FILE = 'docs/turnrelay-reference.md';

type CelRule = { rule: string; message?: string };
// The schema as plain JSON (the client library's model renames default/enum).
type Node = {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: CelRule[];
};
type Section = { path: string; schema: Node };

/** A heading's GitHub anchor: lowercase, punctuation dropped, spaces to dashes. */
function anchor(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

const isObject = (s: Node | undefined): boolean => s?.type === 'object' && s.properties !== undefined;
// Markdown would read <name> as an HTML tag and | as a column break.
const escapeText = (text: string): string => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeCell = (text: string): string => escapeText(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (value: unknown): string => '`' + (typeof value === 'string' ? value : JSON.stringify(value)) + '`';

function typeName(schema: Node, childPath: string): string {
  if (schema['x-kubernetes-int-or-string']) return 'int or string';
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return 'object (free-form)';
  if (isObject(schema)) return `[object](#${anchor(childPath)})`;
  if (schema.type === 'array' && schema.items) {
    const items: Node = schema.items;
    return isObject(items) ? `[[]object](#${anchor(childPath + '[]')})` : `[]${typeName(items, childPath + '[]')}`;
  }
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object') {
    return `map[string]${typeName(schema.additionalProperties, childPath)}`;
  }
  if (schema.anyOf) return schema.anyOf.map((alt) => alt.format ?? alt.type ?? '?').join(' or ');
  return schema.format ? `${schema.type} (${schema.format})` : (schema.type ?? 'any');
}

function constraints(schema: Node): string[] {
  const out: string[] = [];
  if (schema.enum) out.push(`One of ${schema.enum.map(code).join(', ')}.`);
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    out.push(`Range ${schema.minimum}–${schema.maximum}.`);
  else if (schema.minimum !== undefined) out.push(`Minimum ${schema.minimum}.`);
  else if (schema.maximum !== undefined) out.push(`Maximum ${schema.maximum}.`);
  if (schema.minItems !== undefined) out.push(`At least ${schema.minItems} item(s).`);
  if (schema.maxItems !== undefined) out.push(`At most ${schema.maxItems} items.`);
  if (schema.maxLength !== undefined) out.push(`At most ${schema.maxLength} characters.`);
  return out;
}

function rules(schema: Node): CelRule[] {
  return schema['x-kubernetes-validations'] ?? [];
}

function fieldRow(name: string, schema: Node, parent: Node, path: string): string {
  const required = parent.required?.includes(name) ? ' *(required)*' : '';
  // Objects list their rules in their own section; empty-object defaults say nothing.
  const hasSection = isObject(schema) || (schema.type === 'array' && isObject(schema.items));
  const trivialDefault = schema.default === undefined || (hasSection && JSON.stringify(schema.default) === '{}');
  const defaultValue = trivialDefault ? '' : code(schema.default);
  const fieldRules = hasSection ? [] : rules(schema).map((r) => `Must hold: ${r.message ?? r.rule}.`);
  const notes = [schema.description ?? '', ...constraints(schema), ...fieldRules].filter(Boolean).join(' ');
  return `| \`${name}\`${required} | ${typeName(schema, path)} | ${escapeCell(defaultValue)} | ${escapeCell(notes)} |`;
}

/** Depth-first list of every object in the schema, each rendered as one table. */
function collectSections(path: string, schema: Node, out: Section[]): Section[] {
  out.push({ path, schema });
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = `${path}.${name}`;
    if (isObject(child)) collectSections(childPath, child, out);
    if (child.type === 'array' && child.items && isObject(child.items))
      collectSections(`${childPath}[]`, child.items, out);
  }
  return out;
}

function renderSection({ path, schema }: Section): string {
  const lines = [`## ${path}`, ''];
  if (schema.description) lines.push(escapeText(schema.description), '');
  const objectRules = rules(schema);
  if (objectRules.length > 0) {
    lines.push('Rules checked by the API server:', '');
    for (const r of objectRules) lines.push(`- ${escapeText(r.message ?? r.rule)}`);
    lines.push('');
  }
  lines.push('| Field | Type | Default | Description |', '| --- | --- | --- | --- |');
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    lines.push(fieldRow(name, child, schema, `${path}.${name}`));
  }
  return lines.join('\n') + '\n';
}

export function renderReference(): string {
  const crd = turnRelayCrd();
  const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0]!;
  const root = version.schema?.openAPIV3Schema;
  const spec = root?.properties?.['spec'];
  const status = root?.properties?.['status'];
  if (!spec || !status) throw new Error('the TurnRelay CRD has no spec or status schema');
  const sections = [...collectSections('spec', spec, []), ...collectSections('status', status, [])];
  const header = [
    '<!-- Generated from operator/api/turnrelay.ts by `npm run generate:docs`. Do not edit. -->',
    '# TurnRelay API reference',
    '',
    `\`apiVersion: ${crd.spec.group}/${version.name}\`, \`kind: ${crd.spec.names.kind}\`` +
      ` (short name${(crd.spec.names.shortNames ?? []).length === 1 ? '' : 's'}: ${(crd.spec.names.shortNames ?? []).map(code).join(', ')}),` +
      ` namespaced. Examples: [examples/](../examples/). How the fields turn into a running relay: [architecture.md](architecture.md).`,
    '',
    'Every field below, with its description, is also available from `kubectl explain turnrelay.spec --recursive` once the CRD is installed.',
    '',
    '## Contents',
    '',
    ...sections.map((s) => `- [${s.path}](#${anchor(s.path)})`),
    '',
  ].join('\n');
  return header + '\n' + sections.map(renderSection).join('\n');
}
