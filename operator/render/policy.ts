// Availability and network policy for the relay pods.
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
import { ADMIN_PORT } from '../api/constants.js';
import { listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { childMetadata, childNames, selectorLabels } from './names.js';

/** At most one relay pod is voluntarily evicted at a time (each drains its calls). */
export function relayDisruptionBudget(scope: Construct, relay: TurnRelay): ApiObject {
  return new kplus.k8s.KubePodDisruptionBudget(scope, 'pdb', {
    metadata: childMetadata(relay, childNames(relay).podDisruptionBudget),
    spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorLabels(relay) } },
  });
}

/**
 * Ingress from anywhere, but only to the listener ports, the relay port range
 * (peers' UDP) and the admin port (probes, Prometheus). No `from` clause: TURN
 * clients and peers are anywhere on the internet or in the cluster.
 */
export function relayNetworkPolicy(scope: Construct, relay: TurnRelay): ApiObject {
  const range = relay.spec.network.relayPortRange;
  const listenerPorts = relay.spec.listeners.map((l) => ({
    protocol: l.protocol === 'UDP' ? 'UDP' : 'TCP',
    port: kplus.k8s.IntOrString.fromNumber(listenerPort(l)),
  }));
  return new kplus.k8s.KubeNetworkPolicy(scope, 'network-policy', {
    metadata: childMetadata(relay, childNames(relay).networkPolicy),
    spec: {
      podSelector: { matchLabels: selectorLabels(relay) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ports: [
            ...listenerPorts,
            { protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(range.min), endPort: range.max },
            { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(ADMIN_PORT) },
          ],
        },
      ],
    },
  });
}
