import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_FILE, crdYaml } from '../../../operator/api/crd-yaml.js';
import { structural, turnRelayCrd } from '../../../operator/api/crd.js';

/** A node of the CRD's OpenAPI schema, as JSON (client-node's V1JSONSchemaProps spells the keys differently). */
interface Node {
  type?: string;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  'x-kubernetes-validations'?: Array<{ rule: string; message?: unknown }>;
  [key: string]: unknown;
}

/** Every schema node with its path, descending through properties/items/additionalProperties. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [key, child] of Object.entries(node.properties ?? {})) yield* walk(child, `${path}.${key}`);
  if (node.items) yield* walk(node.items, `${path}[]`);
  if (typeof node.additionalProperties === 'object') yield* walk(node.additionalProperties, `${path}{}`);
}

const schema = () => turnRelayCrd().spec.versions[0]!.schema!.openAPIV3Schema as Node;
/** The child schema at `keys` under properties, failing the test if it is not there. */
const at = (node: Node, ...keys: string[]): Node =>
  keys.reduce((n, key) => {
    const child = n.properties?.[key];
    if (!child) throw new Error(`no property ${key}`);
    return child;
  }, node);

describe('TurnRelay CRD', () => {
  test('the committed CRD matches the zod schema (run `npm run generate:crds` if not)', () => {
    const committed = readFileSync(join(process.cwd(), CRD_FILE), 'utf8');
    expect(committed).toBe(crdYaml());
  });

  test('the schema is structural', () => {
    for (const [path, node] of walk(schema(), '')) {
      const where = `at ${path || '(root)'}`;
      expect([where, node['$ref'], node['$defs'], node['const'], node['propertyNames'], node['$schema']]).toEqual([
        where,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect([where, node.additionalProperties]).not.toEqual([where, false]);
      if (node.properties && node.additionalProperties) throw new Error(`properties and additionalProperties ${where}`);
      const typed =
        node.type !== undefined || node['x-kubernetes-int-or-string'] || node['x-kubernetes-preserve-unknown-fields'];
      expect([where, Boolean(typed)]).toEqual([where, true]);
      for (const branch of node.anyOf ?? []) {
        expect([where, branch.type, branch.description, branch['default']]).toEqual([
          where,
          undefined,
          undefined,
          undefined,
        ]);
      }
    }
  });

  test('every spec and status field is documented for kubectl explain', () => {
    const root = schema();
    for (const part of ['spec', 'status']) {
      for (const [path, node] of walk(at(root, part), part)) {
        if (path.endsWith('{}') || path.endsWith('[]')) continue; // map values and list items inherit the parent's text
        expect([path, typeof node.description]).toEqual([path, 'string']);
      }
    }
  });

  test('cross-field rules are CEL validations with messages', () => {
    const spec = at(schema(), 'spec');
    const rules = (spec['x-kubernetes-validations'] ?? []).map((r) => r.rule);
    expect(rules.some((r) => r.includes("'TLS'") && r.includes('has(self.tls)'))).toBe(true);
    expect(rules).toContain('!(has(self.replicas) && has(self.autoscaling))');
    expect(at(spec, 'tls')['x-kubernetes-validations']?.[0]?.rule).toBe('has(self.issuerRef) != has(self.secretName)');
    expect(at(spec, 'network', 'relayPortRange')['x-kubernetes-validations']?.[0]?.rule).toBe('self.min <= self.max');
    for (const [path, node] of walk(schema(), '')) {
      for (const rule of node['x-kubernetes-validations'] ?? [])
        expect([path, typeof rule.message]).toEqual([path, 'string']);
    }
  });

  test('quantities are int-or-string and affinity keeps unknown fields', () => {
    const spec = at(schema(), 'spec');
    expect(at(spec, 'resources', 'requests').additionalProperties).toMatchObject({
      'x-kubernetes-int-or-string': true,
    });
    expect(at(spec, 'affinity')).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(at(spec, 'affinity').additionalProperties).toBeUndefined();
  });

  test('has status and scale subresources, printer columns and the short name', () => {
    const crd = turnRelayCrd();
    const version = crd.spec.versions[0]!;
    expect(crd.metadata?.name).toBe('turnrelays.turnrelay.dev');
    expect(crd.spec.names.shortNames).toEqual(['tr']);
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    expect(version.additionalPrinterColumns?.map((c) => c.name)).toEqual(['Ready', 'Replicas', 'Endpoints', 'Age']);
  });

  test('structural() refuses what Kubernetes cannot express', () => {
    expect(() => structural({ $ref: '#/$defs/x' })).toThrow(/\$ref/);
    expect(() => structural({ anyOf: [{ type: 'string' }, { type: 'object' }] })).toThrow(/anyOf/);
    expect(structural({ type: 'string', const: 'a' })).toEqual({ type: 'string', enum: ['a'] });
  });
});
