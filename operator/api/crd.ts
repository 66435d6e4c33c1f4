// Builds the TurnRelay CustomResourceDefinition from the zod schema. zod emits
// OpenAPI 3.0 JSON Schema; Kubernetes wants a *structural* schema, so the
// output is rewritten: no $ref/$defs, no additionalProperties:false, no const,
// no typed branches inside anyOf, and int-or-string instead of number|string
// unions. The API server is the final judge (test/k8s/api-schema.test.ts).
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  API_GROUP,
  API_VERSION,
  KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  TurnRelaySpecSchema,
  TurnRelayStatusSchema,
} from './turnrelay.js';
import { MAX_NAME_LENGTH } from './validate.js';

type Schema = Record<string, unknown>;

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;
// Keys structural schemas forbid (or that mean nothing to Kubernetes).
const DROPPED_KEYS = new Set(['$schema', '$defs', 'definitions', 'id', '$id', 'propertyNames', 'title', 'examples']);

function toOpenApi(schema: z.ZodType): Schema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', cycles: 'throw', unrepresentable: 'throw' });
}

/** Rewrites one zod-emitted JSON Schema node (recursively) into structural form. */
export function structural(node: Schema): Schema {
  if ('$ref' in node) throw new Error(`CRD schemas cannot use $ref (${String(node['$ref'])}); inline the schema`);
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, structural(v)]),
      );
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object' && value !== null)) {
      out[key] = structural(value as Schema);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = (value as Schema[]).map(structural);
    } else if (key === 'const') {
      out['enum'] = [value];
    } else {
      out[key] = value;
    }
  }
  if (out['additionalProperties'] === false) delete out['additionalProperties'];
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    // A free-form object: the marker alone says it; an empty additionalProperties would clash.
    delete out['additionalProperties'];
    out['type'] = 'object';
  } else if (isEmptySchema(out['additionalProperties'])) {
    delete out['additionalProperties'];
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (out['type'] === 'integer') {
    if (out['minimum'] === -SAFE_INTEGER_BOUND) delete out['minimum'];
    if (out['maximum'] === SAFE_INTEGER_BOUND) delete out['maximum'];
  }
  foldAnyOf(out);
  return out;
}

function isEmptySchema(value: unknown): boolean {
  return value === true || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
}

// Structural schemas allow anyOf only as extra validation on an already typed
// node. number|string becomes int-or-string; same-typed branches (ipv4|ipv6)
// keep their patterns/formats with the type hoisted out.
function foldAnyOf(out: Schema): void {
  const branches = out['anyOf'] as Schema[] | undefined;
  if (!branches) return;
  const types = new Set(branches.map((b) => b['type']));
  if (types.size === 2 && types.has('string') && (types.has('integer') || types.has('number'))) {
    delete out['anyOf'];
    out['x-kubernetes-int-or-string'] = true;
    return;
  }
  const [only] = types;
  if (types.size !== 1 || typeof only !== 'string') {
    throw new Error(`cannot express anyOf over types ${[...types].join(', ')} in a structural schema`);
  }
  out['type'] = only;
  out['anyOf'] = branches.map(({ type: _type, description: _description, ...rest }) => rest);
}

const ROOT_VALIDATIONS = [
  {
    rule: `self.metadata.name.size() <= ${MAX_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
    message: `metadata.name must start with a letter, contain only lowercase letters, digits and '-', and be at most ${MAX_NAME_LENGTH} characters (child objects are named after it)`,
  },
];

export function turnRelayCrd(): V1CustomResourceDefinition {
  const spec = structural(toOpenApi(TurnRelaySpecSchema));
  const status = structural(toOpenApi(TurnRelayStatusSchema));
  const openAPIV3Schema = {
    type: 'object',
    description: 'TurnRelay runs a secured TURN relay (RFC 8656) for WebRTC clients.',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of this object.' },
      kind: { type: 'string', description: 'Kind of this object.' },
      metadata: { type: 'object' },
      spec,
      status,
    },
    'x-kubernetes-validations': ROOT_VALIDATIONS,
  } as V1JSONSchemaProps;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
            { name: 'Endpoints', type: 'string', jsonPath: '.status.endpoints' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
