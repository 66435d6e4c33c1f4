// cert-manager Certificate for the TLS listener's key pair (spec.tls.issuerRef).
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { TurnRelay } from '../api/turnrelay.js';
import { childMetadata, childNames } from './names.js';

export function relayCertificate(scope: Construct, relay: TurnRelay): ApiObject | undefined {
  const tls = relay.spec.tls;
  if (!tls?.issuerRef) return undefined;
  const names = childNames(relay);
  return new ApiObject(scope, 'certificate', {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: childMetadata(relay, names.certificate),
    spec: {
      secretName: names.tlsSecret,
      dnsNames: tls.dnsNames ?? [],
      issuerRef: { name: tls.issuerRef.name, kind: tls.issuerRef.kind, group: tls.issuerRef.group },
      // A fresh key on every renewal; the relay reloads the files live.
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['server auth', 'digital signature', 'key encipherment'],
    },
  });
}
