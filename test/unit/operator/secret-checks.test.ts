import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import type { V1Secret } from '@kubernetes/client-node';
import { checkAuthSecret, checkTlsSecret } from '../../../operator/status/secret-checks.js';
import { toRelayFields } from '../../../operator/reconcile/field-map.js';
import { conflictMessage, ownership } from '../../../operator/render/ownership.js';
import { selfSigned, tlsSecretData } from './support/tls.js';

const pair = selfSigned(['turn.example.com']);
const other = selfSigned(['turn.example.com']);
const tlsSecret = (data: Record<string, string>, type = 'kubernetes.io/tls'): V1Secret => ({
  metadata: { name: 'edge-tls' },
  type,
  data,
});
const opts = { field: 'spec.tls.secretName', dnsNames: ['turn.example.com'], now: new Date() };
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('checkTlsSecret', () => {
  test('a matching pair for the relay names is fine, and says until when', () => {
    const check = checkTlsSecret(tlsSecret(tlsSecretData(pair)), opts);
    expect(check).toMatchObject({ ok: true, notAfter: expect.stringMatching(/^\d{4}-/) });
  });

  test.each([
    [
      'an Opaque Secret',
      tlsSecret(tlsSecretData(pair), 'Opaque'),
      'SecretWrongType',
      /type Opaque; it must be kubernetes\.io\/tls/,
    ],
    ['no certificate', tlsSecret({ 'tls.key': b64(pair.key) }), 'SecretIncomplete', /no tls\.crt/],
    ['no key', tlsSecret({ 'tls.crt': b64(pair.cert) }), 'SecretIncomplete', /no tls\.key/],
    [
      'garbage certificate',
      tlsSecret({ 'tls.crt': b64('c'), 'tls.key': b64(pair.key) }),
      'CertificateInvalid',
      /not a PEM certificate/,
    ],
    [
      'garbage key',
      tlsSecret({ 'tls.crt': b64(pair.cert), 'tls.key': b64('k') }),
      'KeyInvalid',
      /not a PEM private key/,
    ],
    [
      'a key of another certificate',
      tlsSecret({ 'tls.crt': b64(pair.cert), 'tls.key': b64(other.key) }),
      'KeyMismatch',
      /does not belong/,
    ],
  ])('%s is refused, naming the field', (_what, secret, reason, message) => {
    const check = checkTlsSecret(secret, opts);
    expect(check).toMatchObject({ ok: false, reason });
    expect(check.ok ? '' : check.message).toMatch(/^spec\.tls\.secretName: Secret edge-tls /);
    expect(check.ok ? '' : check.message).toMatch(message);
  });

  test('an expired certificate and one for other names are refused', () => {
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(checkTlsSecret(tlsSecret(tlsSecretData(pair)), { ...opts, now: later })).toMatchObject({
      ok: false,
      reason: 'CertificateExpired',
    });
    const names = checkTlsSecret(tlsSecret(tlsSecretData(pair)), {
      ...opts,
      dnsNames: ['turn.example.com', 'relay.example.org'],
    });
    expect(names).toMatchObject({
      ok: false,
      reason: 'CertificateNameMismatch',
      message: expect.stringContaining('does not cover relay.example.org'),
    });
  });
});

describe('checkAuthSecret', () => {
  const auth = (data: Record<string, string>): V1Secret => ({ metadata: { name: 'mine' }, data });
  test('usable shared secrets pass; missing, empty or broken content names the field', () => {
    expect(checkAuthSecret(auth({ secrets: b64('s1\n') }), 'spec.auth.secretRef.name').ok).toBe(true);
    expect(checkAuthSecret(auth({}), 'spec.auth.secretRef.name')).toEqual({
      ok: false,
      reason: 'AuthSecretInvalid',
      message: 'spec.auth.secretRef.name: Secret mine has no "secrets" key',
    });
    expect(checkAuthSecret(auth({ secrets: b64('# only a comment\n') }), 'spec.auth')).toMatchObject({
      ok: false,
      message: expect.stringContaining('no shared secret'),
    });
    const broken = checkAuthSecret(auth({ secrets: b64('s1\n'), users: b64('no-colon-here\n') }), 'spec.auth');
    expect(broken).toMatchObject({ ok: false, message: expect.stringContaining('users file line 1') });
    // Never the secret itself.
    expect(JSON.stringify(broken)).not.toContain('no-colon-here');
  });
});

describe('toRelayFields', () => {
  test("rewrites the child's field path to the TurnRelay's", () => {
    const msg =
      'Deployment.apps "edge" is invalid: spec.template.spec.nodeSelector: Invalid value: "-x": name part must consist of alphanumeric characters';
    expect(toRelayFields('Deployment', msg)).toBe(
      'Deployment.apps "edge" is invalid: spec.nodeSelector: Invalid value: "-x": name part must consist of alphanumeric characters',
    );
    expect(toRelayFields('Deployment', 'spec.template.spec.tolerations[0].key: Invalid value')).toBe(
      'spec.tolerations[0].key: Invalid value',
    );
    expect(toRelayFields('HorizontalPodAutoscaler', 'spec.maxReplicas: Invalid')).toBe(
      'spec.autoscaling.maxReplicas: Invalid',
    );
    // Other kinds' paths and unknown paths stay as they are.
    expect(toRelayFields('Service', 'spec.template.spec.nodeSelector: x')).toBe('spec.template.spec.nodeSelector: x');
  });
});

describe('ownership', () => {
  const uid = 'u-1';
  const owned = (ownerUid: string, controller = true) => ({
    metadata: {
      name: 'edge',
      ownerReferences: [
        { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', name: 'edge', uid: ownerUid, controller },
      ],
    },
  });
  test('only a controller reference with our uid is ours', () => {
    expect(ownership(undefined, uid)).toBe('absent');
    expect(ownership(owned(uid), uid)).toBe('ours');
    expect(ownership(owned('u-2'), uid)).toBe('foreign');
    expect(ownership(owned(uid, false), uid)).toBe('foreign');
    expect(ownership({ metadata: { name: 'edge' } }, uid)).toBe('foreign');
    expect(conflictMessage([{ kind: 'Service', name: 'edge', controller: 'no controller' }])).toMatch(
      /^Service edge \(no controller\) already exists and is not owned by this TurnRelay/,
    );
  });
});
