import {
  applyReason,
  withContentHash,
  desiredLeafPaths,
  ownedLeafPaths,
  uncoveredPaths,
  HASH_ANNOTATION,
} from '../../../operator/runtime/drift.js';

const MANAGER = 'turnrelay-operator';
const hashOf = (o: object) =>
  (o as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.[HASH_ANNOTATION];

const desired = withContentHash({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'edge',
    namespace: 'media',
    labels: { 'app.kubernetes.io/name': 'turnrelay' },
    ownerReferences: [
      { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', name: 'edge', uid: 'u1', controller: true },
    ],
  },
  spec: {
    type: 'LoadBalancer',
    ports: [
      { name: 'udp', protocol: 'UDP', port: 3478 },
      { name: 'tcp', protocol: 'TCP', port: 3478 },
    ],
    selector: { 'turnrelay.dev/relay': 'edge' },
  },
});

// What the API server records for the apply above (shape as in real managedFields).
function fieldsV1(opts: { withoutTcpPort?: boolean } = {}) {
  return {
    'f:metadata': {
      'f:annotations': { '.': {}, [`f:${HASH_ANNOTATION}`]: {} },
      'f:labels': { '.': {}, 'f:app.kubernetes.io/name': {} },
      'f:ownerReferences': { '.': {}, 'k:{"uid":"u1"}': {} },
    },
    'f:spec': {
      'f:type': {},
      'f:ports': {
        '.': {},
        'k:{"port":3478,"protocol":"UDP"}': { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {} },
        'k:{"port":3478,"protocol":"TCP"}': opts.withoutTcpPort
          ? { '.': {}, 'f:name': {}, 'f:protocol': {} }
          : { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {} },
      },
      'f:selector': { 'f:turnrelay.dev/relay': {} },
    },
  };
}

function live(fields: unknown, hash = hashOf(desired)) {
  return {
    metadata: {
      annotations: { [HASH_ANNOTATION]: hash! },
      managedFields: [
        { manager: MANAGER, operation: 'Apply', fieldsV1: fields },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          subresource: 'status',
          fieldsV1: { 'f:status': {} },
        },
      ],
    },
  };
}

test('a missing child must be applied', () => {
  expect(applyReason(desired, undefined, MANAGER)).toBe('missing');
});

test('an unchanged child that we fully own needs no write', () => {
  expect(applyReason(desired, live(fieldsV1()), MANAGER)).toBeUndefined();
});

test('a changed desired object is detected through the hash annotation', () => {
  expect(applyReason(desired, live(fieldsV1(), 'stale'), MANAGER)).toBe('changed');
});

test('a field taken over by another manager is detected', () => {
  expect(applyReason(desired, live(fieldsV1({ withoutTcpPort: true })), MANAGER)).toBe('drifted');
  expect(applyReason(desired, live(fieldsV1()), 'someone-else')).toBe('drifted');
});

test('an atomic list owned as a whole covers its elements', () => {
  const owned = ownedLeafPaths({ 'f:spec': { 'f:tolerations': {} } });
  const want = desiredLeafPaths({ spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } });
  expect(uncoveredPaths(want, owned)).toEqual([]);
});

test('scalar set lists and empty maps are single leaves', () => {
  const owned = ownedLeafPaths({
    'f:spec': { 'f:args': {}, 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} }, 'f:emptyDir': {} },
  });
  const want = desiredLeafPaths({ spec: { args: ['relay'], finalizers: ['a', 'b'], emptyDir: {} } });
  expect(uncoveredPaths(want, owned)).toEqual([]);
  expect(uncoveredPaths(desiredLeafPaths({ spec: { other: 1 } }), owned)).toEqual(['spec.other']);
});

test('the content hash ignores a previous hash annotation and key order', () => {
  const a = withContentHash({ metadata: { name: 'x' }, data: { b: '1', a: '2' } });
  const b = withContentHash({
    data: { a: '2', b: '1' },
    metadata: { name: 'x', annotations: { [HASH_ANNOTATION]: 'old' } },
  });
  expect(hashOf(a)).toBe(hashOf(b));
  const c = withContentHash({ metadata: { name: 'x' }, data: { a: '3', b: '1' } });
  expect(hashOf(c)).not.toBe(hashOf(a));
});
