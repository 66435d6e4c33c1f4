import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import { TurnRelaySpecSchema } from '../../../operator/api/turnrelay.js';
import { validateTurnRelay } from '../../../operator/api/validate.js';
import { INVALID_SPECS } from './support/invalid-specs.js';
import { loadSamples } from './support/samples.js';

const envelope = (spec: unknown, name = 'edge') => ({
  apiVersion: 'turnrelay.dev/v1alpha1',
  kind: 'TurnRelay',
  metadata: { name, namespace: 'media', uid: 'u1' },
  spec,
});

describe('validateTurnRelay', () => {
  test.each(loadSamples().map((s) => [s.file, s.manifest]))('accepts sample %s', (_file, manifest) => {
    const result = validateTurnRelay({ ...manifest, metadata: { ...manifest.metadata, namespace: 'media' } });
    expect(result).toMatchObject({ ok: true });
  });

  test('fills defaults for an empty spec', () => {
    const result = validateTurnRelay(envelope({}));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { spec } = result.relay;
    expect(spec.listeners).toEqual([
      { name: 'udp', protocol: 'UDP', port: 3478 },
      { name: 'tcp', protocol: 'TCP', port: 3478 },
    ]);
    expect(spec.realm).toBe('turnrelay');
    expect(spec.network).toMatchObject({ mode: 'LoadBalancer', relayPortRange: { min: 49152, max: 65535 } });
    expect(spec.network.service).toMatchObject({
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      annotations: {},
    });
    expect(spec.auth).toEqual({ rotationInterval: '24h', credentialTTL: '1h' });
    expect(spec.peers).toEqual({ allowCIDRs: [], allowServices: [], denyCIDRs: [] });
    expect(spec.limits).toMatchObject({ maxAllocations: 10000, maxAllocationsPerUser: 10, maxBitrateKbps: 0 });
    expect(spec.drain).toEqual({ gracePeriod: '1h' });
    expect(spec.replicas).toBeUndefined();
  });

  test.each(INVALID_SPECS.map((c) => [c.name, c]))('rejects %s, naming the field', (_name, c) => {
    const result = validateTurnRelay(envelope(c.spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const hit = result.issues.find((i) => i.field.startsWith(c.field) && c.message.test(i.message));
    expect({ hit: hit !== undefined, issues: result.issues }).toEqual({ hit: true, issues: result.issues });
  });

  test('rejects unknown fields by name instead of dropping them', () => {
    const result = validateTurnRelay(envelope({ listners: [] }));
    expect(result).toEqual({
      ok: false,
      issues: [expect.objectContaining({ field: 'spec', message: expect.stringContaining('listners') })],
    });
  });

  test('rejects names that cannot name the children', () => {
    for (const name of ['1relay', 'Relay', 'a'.repeat(53), 'edge.example']) {
      const result = validateTurnRelay(envelope({}, name));
      expect(result).toEqual({ ok: false, issues: [expect.objectContaining({ field: 'metadata.name' })] });
    }
  });

  test('rejects a non-object', () => {
    expect(validateTurnRelay('nope').ok).toBe(false);
    expect(validateTurnRelay({ kind: 'TurnRelay' }).ok).toBe(false);
  });

  test('a malformed status never blocks the spec', () => {
    const result = validateTurnRelay({ ...envelope({}), status: { replicas: 'many' } });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.relay.status).toBeUndefined();
  });

  test('accepts IPv6 CIDRs and Go-style compound durations', () => {
    const spec = TurnRelaySpecSchema.parse({
      peers: { allowCIDRs: ['fd00::/8', '10.0.0.0/8'] },
      auth: { rotationInterval: '1h30m', credentialTTL: '90m' },
    });
    expect(spec.peers.allowCIDRs).toEqual(['fd00::/8', '10.0.0.0/8']);
  });
});
