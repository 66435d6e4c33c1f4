import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_FILE, crdYaml } from '../../../operator/api/crd-yaml.js';
import { structural, turnRelayCrd } from '../../../operator/api/crd.js';

type Node = Record<string, any>;

/** Every schema node with its path, descending through properties/items/additionalProperties. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [key, child] of Object.entries(node['properties'] ?? {})) yield* walk(child as Node, `${path}.${key}`);
  if (node['items']) yield* walk(node['items'], `${path}[]`);
  if (typeof node['additionalProperties'] === 'object') yield* walk(node['additionalProperties'], `${path}{}`);
}

const schema = () => turnRelayCrd().spec.versions[0]!.schema!.openAPIV3Schema as Node;

describe('TurnRelay CRD', () => {
  test('the committed CRD matches the zod schema (run `npm run generate:crds` if not)', () => {
    const committed = readFileSync(join(process.cwd(), CRD_FILE), 'utf8');
    expect(committed).toBe(crdYaml());
  });

  test('the schema is structural', () => {
    for (const [path, node] of walk(schema(), '')) {
      const where = `at ${path || '(root)'}`;
      expect([where, node['$ref'], node['$defs'], node['const'], node['propertyNames'], node['$schema']]).toEqual([where, undefined, undefined, undefined, undefined, undefined]);
      expect([where, node['additionalProperties']]).not.toEqual([where, false]);
      if (node['properties'] && node['additionalProperties']) throw new Error(`properties and additionalProperties ${where}`);
      const typed = node['type'] !== undefined || node['x-kubernetes-int-or-string'] || node['x-kubernetes-preserve-unknown-fields'];
      expect([where, Boolean(typed)]).toEqual([where, true]);
      for (const branch of node['anyOf'] ?? []) {
        expect([where, branch.type, branch.description, branch.default]).toEqual([where, undefined, undefined, undefined]);
      }
    }
  });

  test('every spec and status field is documented for kubectl explain', () => {
    const root = schema();
    for (const part of ['spec', 'status']) {
      for (const [path, node] of walk(root['properties'][part], part)) {
        if (path.endsWith('{}') || path.endsWith('[]')) continue; // map values and list items inherit the parent's text
        expect([path, typeof node['description']]).toEqual([path, 'string']);
      }
    }
  });

  test('cross-field rules are CEL validations with messages', () => {
    const spec = schema()['properties']['spec'];
    const rules = (spec['x-kubernetes-validations'] as Node[]).map((r) => r['rule'] as string);
    expect(rules.some((r) => r.includes("'TLS'") && r.includes('has(self.tls)'))).toBe(true);
    expect(rules).toContain('!(has(self.replicas) && has(self.autoscaling))');
    expect(spec['properties']['tls']['x-kubernetes-validations'][0].rule).toBe('has(self.issuerRef) != has(self.secretName)');
    expect(spec['properties']['network']['properties']['relayPortRange']['x-kubernetes-validations'][0].rule).toBe('self.min <= self.max');
    for (const [path, node] of walk(schema(), '')) {
      for (const rule of node['x-kubernetes-validations'] ?? []) expect([path, typeof rule.message]).toEqual([path, 'string']);
    }
  });

  test('quantities are int-or-string and affinity keeps unknown fields', () => {
    const spec = schema()['properties']['spec']['properties'];
    expect(spec['resources']['properties']['requests']['additionalProperties']).toMatchObject({ 'x-kubernetes-int-or-string': true });
    expect(spec['affinity']).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(spec['affinity']['additionalProperties']).toBeUndefined();
  });

  test('has status and scale subresources, printer columns and the short name', () => {
    const crd = turnRelayCrd();
    const version = crd.spec.versions[0]!;
    expect(crd.metadata?.name).toBe('turnrelays.turnrelay.dev');
    expect(crd.spec.names.shortNames).toEqual(['tr']);
    expect(version.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    });
    expect(version.additionalPrinterColumns?.map((c) => c.name)).toEqual(['Ready', 'Replicas', 'Endpoints', 'Age']);
  });

  test('structural() refuses what Kubernetes cannot express', () => {
    expect(() => structural({ $ref: '#/$defs/x' })).toThrow(/\$ref/);
    expect(() => structural({ anyOf: [{ type: 'string' }, { type: 'object' }] })).toThrow(/anyOf/);
    expect(structural({ type: 'string', const: 'a' })).toEqual({ type: 'string', enum: ['a'] });
  });
});
