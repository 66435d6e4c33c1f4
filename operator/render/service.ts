// The Service in front of the listeners: UDP and TCP may share a port number.
// LoadBalancer mode keeps client source addresses (externalTrafficPolicy
// Local) so per-IP limits see real clients; HostNetwork mode needs only a
// headless Service, since clients reach the nodes directly.
import type { V1Service } from '@kubernetes/client-node';
import * as kplus from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
import { listenerName, listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { childMetadata, childNames, selectorLabels } from './names.js';

const SERVICE_TYPES = {
  LoadBalancer: kplus.ServiceType.LOAD_BALANCER,
  NodePort: kplus.ServiceType.NODE_PORT,
  ClusterIP: kplus.ServiceType.CLUSTER_IP,
} as const;

export function relayService(scope: Construct, relay: TurnRelay): kplus.Service {
  const { network } = relay.spec;
  const hostNetwork = network.mode === 'HostNetwork';
  const type = hostNetwork ? 'ClusterIP' : network.service.type;
  const annotations = network.service.annotations;
  const service = new kplus.Service(scope, 'service', {
    metadata: {
      ...childMetadata(relay, childNames(relay).service),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    type: SERVICE_TYPES[type],
    ...(hostNetwork ? { clusterIP: 'None' } : {}),
    ports: relay.spec.listeners.map((l) => ({
      name: listenerName(l),
      port: listenerPort(l),
      targetPort: listenerPort(l),
      protocol: l.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP,
    })),
  });
  for (const [key, value] of Object.entries(selectorLabels(relay))) service.selectLabel(key, value);
  return service;
}

/** Fields cdk8s-plus does not model, set on the synthesized JSON. */
export function finishService(service: V1Service, relay: TurnRelay): V1Service {
  const spec = service.spec!;
  const { network } = relay.spec;
  if (spec.externalIPs?.length === 0) delete spec.externalIPs;
  if (spec.type !== 'ClusterIP') spec.externalTrafficPolicy = network.service.externalTrafficPolicy;
  if (spec.type === 'LoadBalancer' && network.service.loadBalancerClass)
    spec.loadBalancerClass = network.service.loadBalancerClass;
  return service;
}
