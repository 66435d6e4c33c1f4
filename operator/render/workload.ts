// The relay Deployment: hardened pod, config/secrets mounted as files, probes
// on the admin port, and HostNetwork mode's one-pod-per-node placement.
// cdk8s-plus builds the object; finishDeployment() sets what it does not
// model (raw resources, scheduling fields from the spec) and drops its defaults.
import { createHash } from 'node:crypto';
import type { V1Deployment, V1ResourceRequirements } from '@kubernetes/client-node';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
import { ADMIN_PORT, ADMIN_PORT_NAME, RELAY_UID } from '../api/constants.js';
import { durationSeconds } from '../api/duration.js';
import { listenerName, listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { lowPortAccess } from './low-ports.js';
import { childLabels, childMetadata, childNames, selectorLabels } from './names.js';
import {
  AUTH_DIR,
  CONFIG_DIR,
  CONFIG_FILE,
  TLS_DIR,
  hasTlsListener,
  restartRelevantConfig,
  type RelayConfig,
} from './relay-config.js';

/** Pod-template annotation: changes only when the relay cannot apply a change live. */
export const RESTART_CHECKSUM_ANNOTATION = 'turnrelay.dev/restart-checksum';
/** Time the kubelet allows beyond the relay's own drain before killing it. */
export const TERMINATION_MARGIN_SECONDS = 30;

const READ_ONLY_FILES = 0o440; // group-readable through fsGroup, nothing else

export type WorkloadInput = {
  relay: TurnRelay;
  image: string;
  authSecretName: string;
  config: RelayConfig;
  serviceAccount: kplus.IServiceAccount;
  configMap: kplus.IConfigMap;
};

export function restartChecksum(config: RelayConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(restartRelevantConfig(config)))
    .digest('hex')
    .slice(0, 16);
}

function containerPorts(relay: TurnRelay): kplus.ContainerPort[] {
  const listeners = relay.spec.listeners.map((l) => ({
    name: listenerName(l),
    number: listenerPort(l),
    protocol: l.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP,
  }));
  return [...listeners, { name: ADMIN_PORT_NAME, number: ADMIN_PORT, protocol: kplus.Protocol.TCP }];
}

const adminProbe = (path: string, periodSeconds: number) =>
  kplus.Probe.fromHttpGet(path, {
    port: ADMIN_PORT,
    periodSeconds: Duration.seconds(periodSeconds),
    timeoutSeconds: Duration.seconds(2),
    failureThreshold: 3,
  });

// Required anti-affinity on the hostname: one host-network pod per node.
function oneRelayPerNode(relay: TurnRelay) {
  return {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: selectorLabels(relay) }, topologyKey: 'kubernetes.io/hostname' },
    ],
  };
}

function affinity(relay: TurnRelay): Record<string, unknown> | undefined {
  const user = relay.spec.affinity;
  if (relay.spec.network.mode !== 'HostNetwork') return user;
  const userAnti = (user?.['podAntiAffinity'] ?? {}) as Record<string, unknown>;
  const userRequired = (userAnti['requiredDuringSchedulingIgnoredDuringExecution'] ?? []) as unknown[];
  const ours = oneRelayPerNode(relay).requiredDuringSchedulingIgnoredDuringExecution;
  return {
    ...user,
    podAntiAffinity: { ...userAnti, requiredDuringSchedulingIgnoredDuringExecution: [...userRequired, ...ours] },
  };
}

export function relayDeployment(scope: Construct, input: WorkloadInput): kplus.Deployment {
  const { relay, config } = input;
  const names = childNames(relay);
  const hostNetwork = relay.spec.network.mode === 'HostNetwork';
  const graceSeconds = durationSeconds(relay.spec.drain.gracePeriod);

  const deployment = new kplus.Deployment(scope, 'deployment', {
    metadata: childMetadata(relay, names.workload),
    select: false,
    // With autoscaling the HPA owns the count (cdk8s-plus then omits it).
    ...(relay.spec.autoscaling ? {} : { replicas: relay.spec.replicas ?? 1 }),
    podMetadata: {
      labels: childLabels(relay),
      annotations: { [RESTART_CHECKSUM_ANNOTATION]: restartChecksum(config) },
    },
    // Host-network pods cannot surge onto a node that already runs one.
    strategy: hostNetwork
      ? kplus.DeploymentStrategy.rollingUpdate({
          maxSurge: kplus.PercentOrAbsolute.absolute(0),
          maxUnavailable: kplus.PercentOrAbsolute.absolute(1),
        })
      : kplus.DeploymentStrategy.rollingUpdate({
          maxSurge: kplus.PercentOrAbsolute.absolute(1),
          maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        }),
    serviceAccount: input.serviceAccount,
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: RELAY_UID, group: RELAY_UID, fsGroup: RELAY_UID },
    terminationGracePeriod: Duration.seconds(graceSeconds + TERMINATION_MARGIN_SECONDS),
    ...(hostNetwork ? { hostNetwork: true, dns: { policy: kplus.DnsPolicy.CLUSTER_FIRST_WITH_HOST_NET } } : {}),
    containers: [
      {
        name: 'relay',
        image: relay.spec.image ?? input.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: ['relay', '--config', `${CONFIG_DIR}/${CONFIG_FILE}`],
        ports: containerPorts(relay),
        liveness: adminProbe('/healthz', 10),
        readiness: adminProbe('/readyz', 5),
        resources: {},
        securityContext: {
          ensureNonRoot: true,
          user: RELAY_UID,
          group: RELAY_UID,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
      },
    ],
  });
  deployment.select(kplus.LabelSelector.of({ labels: selectorLabels(relay) }));

  const container = deployment.containers[0]!;
  container.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(scope, 'config-volume', input.configMap, { name: 'config' }), {
    readOnly: true,
  });
  const authSecret = kplus.Secret.fromSecretName(scope, 'auth-secret', input.authSecretName);
  container.mount(
    AUTH_DIR,
    kplus.Volume.fromSecret(scope, 'auth-volume', authSecret, { name: 'auth', defaultMode: READ_ONLY_FILES }),
    {
      readOnly: true,
    },
  );
  if (hasTlsListener(relay) && relay.spec.tls) {
    const tlsSecret = kplus.Secret.fromSecretName(scope, 'tls-secret', names.tlsSecret);
    container.mount(
      TLS_DIR,
      kplus.Volume.fromSecret(scope, 'tls-volume', tlsSecret, { name: 'tls', defaultMode: READ_ONLY_FILES }),
      {
        readOnly: true,
      },
    );
  }
  container.mount('/tmp', kplus.Volume.fromEmptyDir(scope, 'tmp-volume', 'tmp', { sizeLimit: undefined }));

  return deployment;
}

/**
 * Fields set on the synthesized JSON rather than through cdk8s: cdk8s-plus has
 * no raw pass-through for them, and JSON patches on its objects are re-encoded
 * by typed converters that drop Kubernetes quantities.
 */
export function finishDeployment(deployment: V1Deployment, relay: TurnRelay): V1Deployment {
  const template = deployment.spec!.template;
  const pod = template.spec!;
  const container = pod.containers[0]!;
  // cdk8s-plus marks pods with its construct path; our labels are the only ones.
  delete template.metadata?.labels?.['cdk8s.io/metadata.addr'];
  // Defaults cdk8s-plus writes out that we leave to the API server.
  delete pod.setHostnameAsFQDN;
  delete pod.shareProcessNamespace;
  delete container.resources;
  if (relay.spec.resources) container.resources = relay.spec.resources as V1ResourceRequirements;
  if (relay.spec.nodeSelector) pod.nodeSelector = relay.spec.nodeSelector;
  if (relay.spec.tolerations) pod.tolerations = relay.spec.tolerations;
  const podAffinity = affinity(relay);
  if (podAffinity) pod.affinity = podAffinity;
  const lowPorts = lowPortAccess(relay);
  if (lowPorts.kind === 'sysctl') pod.securityContext = { ...pod.securityContext, sysctls: lowPorts.sysctls };
  if (lowPorts.kind === 'capability') {
    container.command = lowPorts.command;
    const capabilities = container.securityContext!.capabilities!;
    container.securityContext!.capabilities = { ...capabilities, add: lowPorts.addCapabilities };
  }
  return deployment;
}
