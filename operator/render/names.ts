// Names, labels and owner references of a TurnRelay's children. The selector
// labels are our own and never change for a relay: selectors are immutable.
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, KIND, type TurnRelay } from '../api/turnrelay.js';

export const FIELD_MANAGER = 'turnrelay-operator';
export const RELAY_LABEL = 'turnrelay.dev/relay';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/**
 * Labels of the auth Secret the operator creates, and what the controller
 * watches Secrets by. Deliberately without RELAY_LABEL: label-based pruning of
 * rendered children must never reach the credentials.
 */
export const AUTH_SECRET_LABELS: Readonly<Record<string, string>> = {
  [COMPONENT_LABEL]: 'auth',
  [MANAGED_BY_LABEL]: FIELD_MANAGER,
};

/** A label selector (`k=v,k=v`) matching objects that carry all of these labels. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function relayName(relay: TurnRelay): string {
  const name = relay.metadata.name;
  if (!name) throw new Error('TurnRelay has no metadata.name');
  return name;
}

export function relayNamespace(relay: TurnRelay): string {
  const namespace = relay.metadata.namespace;
  if (!namespace) throw new Error(`TurnRelay ${relay.metadata.name ?? '?'} has no metadata.namespace`);
  return namespace;
}

export const childNames = (relay: TurnRelay) => {
  const name = relayName(relay);
  return {
    workload: name,
    service: name,
    serviceAccount: name,
    configMap: `${name}-config`,
    certificate: name,
    tlsSecret: relay.spec.tls?.secretName ?? `${name}-tls`,
    authSecret: relay.spec.auth.secretRef?.name ?? `${name}-turn-auth`,
    podDisruptionBudget: name,
    autoscaler: name,
    networkPolicy: name,
    podMonitor: name,
    prometheusRule: name,
  };
};

/** Default auth Secret name unless spec.auth.secretRef names one. */
export function authSecretNameFor(relay: TurnRelay): string {
  return childNames(relay).authSecret;
}

/** Labels the pods are selected by (stable for the relay's lifetime). */
export function selectorLabels(relay: TurnRelay): Record<string, string> {
  return { [NAME_LABEL]: 'turnrelay', [INSTANCE_LABEL]: relayName(relay) };
}

/** Labels on every child; the runtime prunes unwanted children by RELAY_LABEL. */
export function childLabels(relay: TurnRelay): Record<string, string> {
  return {
    ...selectorLabels(relay),
    [COMPONENT_LABEL]: 'relay',
    [MANAGED_BY_LABEL]: FIELD_MANAGER,
    [RELAY_LABEL]: relayName(relay),
  };
}

/** Name, labels and owner reference of a child object. */
export function childMetadata(
  relay: TurnRelay,
  name: string,
): { name: string; labels: Record<string, string>; ownerReferences: V1OwnerReference[] } {
  return { name, labels: childLabels(relay), ownerReferences: [ownerReference(relay)] };
}

export function ownerReference(relay: TurnRelay): V1OwnerReference {
  const uid = relay.metadata.uid;
  if (!uid)
    throw new Error(`TurnRelay ${relayName(relay)} has no metadata.uid (render only objects read from the API server)`);
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: KIND,
    name: relayName(relay),
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
