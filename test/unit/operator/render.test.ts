import type {
  KubernetesObject,
  V1Deployment,
  V1NetworkPolicy,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { RelayConfigSchema } from '../../../relay/config/schema.js';
import { renderRelay, type Observed } from '../../../operator/render/index.js';
import { selectorLabels } from '../../../operator/render/names.js';
import { RESTART_CHECKSUM_ANNOTATION } from '../../../operator/render/workload.js';
import type { TurnRelay } from '../../../operator/api/turnrelay.js';
import { asRelay, loadSample, loadSamples, sampleRelay, type TurnRelayManifest } from './support/samples.js';

const OBSERVED: Observed = {
  serviceIngress: ['203.0.113.7'],
  nodeAddresses: ['198.51.100.10'],
  allowedServiceIPs: ['10.96.4.2', '10.96.4.1', 'fd00::5', '10.96.4.1'],
  certManager: true,
};

const render = (relay: TurnRelay, observed: Partial<Observed> = {}) =>
  renderRelay({
    relay,
    image: 'ghcr.io/example/turnrelay:1.0.0',
    authSecretName: `${relay.metadata.name}-turn-auth`,
    observed: { ...OBSERVED, ...observed },
  });

/** The relay container's security context: the restricted Pod Security Standard, non-root 10001. */
const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const byKind = (objects: KubernetesObject[], kind: string) => objects.find((o) => o.kind === kind);
const deploymentOf = (objects: KubernetesObject[]) => byKind(objects, 'Deployment') as V1Deployment;
/** The pod template's restart checksum: it changes exactly when the relay pods must roll. */
const restartChecksum = (manifest: TurnRelayManifest, observed: Partial<Observed> = {}) =>
  deploymentOf(render(asRelay(manifest), observed).objects).spec!.template.metadata!.annotations![
    RESTART_CHECKSUM_ANNOTATION
  ];

const EXPECTED_KINDS: Record<string, string[]> = {
  'udp-only.yaml': ['ServiceAccount', 'ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget', 'NetworkPolicy'],
  'full-tls-cert-manager.yaml': [
    'ServiceAccount',
    'ConfigMap',
    'Certificate',
    'Service',
    'Deployment',
    'PodDisruptionBudget',
    'NetworkPolicy',
  ],
  'hostnetwork-p2p.yaml': [
    'ServiceAccount',
    'ConfigMap',
    'Service',
    'Deployment',
    'PodDisruptionBudget',
    'NetworkPolicy',
  ],
  'autoscaled.yaml': [
    'ServiceAccount',
    'ConfigMap',
    'Service',
    'Deployment',
    'HorizontalPodAutoscaler',
    'PodDisruptionBudget',
    'NetworkPolicy',
  ],
  'peers-in-cluster-service.yaml': [
    'ServiceAccount',
    'ConfigMap',
    'Service',
    'Deployment',
    'PodDisruptionBudget',
    'NetworkPolicy',
  ],
};

describe('renderRelay for every sample', () => {
  const samples = loadSamples().map((s) => [s.file, s.manifest] as const);

  test('every sample has an expectation', () => {
    expect(samples.map(([f]) => f).sort()).toEqual(Object.keys(EXPECTED_KINDS).sort());
  });

  test.each(samples)('%s renders exactly the expected children, in apply order', (file, manifest) => {
    const { objects } = render(asRelay(manifest));
    expect(objects.map((o) => o.kind)).toEqual(EXPECTED_KINDS[file]);
  });

  test.each(samples)('%s: every child is labelled, namespaced and controlled by the TurnRelay', (_file, manifest) => {
    const relay = asRelay(manifest);
    const name = relay.metadata.name!;
    for (const obj of render(relay).objects) {
      expect(obj.metadata?.namespace).toBe('media');
      expect(obj.metadata?.labels).toEqual({
        'app.kubernetes.io/name': 'turnrelay',
        'app.kubernetes.io/instance': name,
        'app.kubernetes.io/component': 'relay',
        'app.kubernetes.io/managed-by': 'turnrelay-operator',
        'turnrelay.dev/relay': name,
      });
      expect(obj.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'turnrelay.dev/v1alpha1',
          kind: 'TurnRelay',
          name,
          uid: relay.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(JSON.stringify(obj)).not.toContain('cdk8s');
    }
  });

  test.each(samples)('%s: the relay pod runs restricted', (_file, manifest) => {
    const pod = deploymentOf(render(asRelay(manifest)).objects).spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 });
    expect(container.securityContext).toEqual(RESTRICTED_CONTAINER);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.args).toEqual(['relay', '--config', '/etc/turnrelay/config.yaml']);
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 9641 });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 9641 });
    expect(container.startupProbe).toBeUndefined();
    const mounts = Object.fromEntries(container.volumeMounts!.map((m) => [m.mountPath, m]));
    expect(mounts['/etc/turnrelay']).toMatchObject({ readOnly: true });
    expect(mounts['/auth']).toMatchObject({ readOnly: true });
    expect(mounts['/tmp']).toBeDefined();
    const volumes = Object.fromEntries(pod.volumes!.map((v) => [v.name, v]));
    expect(volumes['tmp']?.emptyDir).toEqual({});
    expect(volumes['auth']?.secret).toEqual({ secretName: `${manifest.metadata.name}-turn-auth`, defaultMode: 0o440 });
  });

  test.each(samples)('%s: the ConfigMap holds a config the relay accepts, equal to relayConfig', (_file, manifest) => {
    const rendered = render(asRelay(manifest));
    const configMap = byKind(rendered.objects, 'ConfigMap') as { data: Record<string, string> };
    const fromFile = RelayConfigSchema.parse(parse(configMap.data['config.yaml']!));
    expect(fromFile).toEqual(rendered.relayConfig);
  });

  test.each(samples)('%s: selectors are our own stable labels', (_file, manifest) => {
    const relay = asRelay(manifest);
    const { objects } = render(relay);
    const deployment = deploymentOf(objects);
    expect(deployment.spec!.selector.matchLabels).toEqual(selectorLabels(relay));
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(selectorLabels(relay));
    expect((byKind(objects, 'Service') as V1Service).spec!.selector).toEqual(selectorLabels(relay));
  });

  test.each(samples)('%s renders deterministically', (_file, manifest) => {
    expect(render(asRelay(manifest))).toEqual(render(asRelay(manifest)));
  });
});

describe('renderRelay details', () => {
  test('UDP and TCP share the port on a LoadBalancer Service keeping client addresses', () => {
    const { objects, serviceName, workloadName } = render(sampleRelay('full-tls-cert-manager.yaml'));
    const service = byKind(objects, 'Service') as V1Service;
    expect(serviceName).toBe('edge');
    expect(workloadName).toBe('edge');
    expect(service.metadata!.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
    expect(service.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(service.spec!.ports).toEqual([
      { name: 'udp', port: 3478, targetPort: 3478, protocol: 'UDP' },
      { name: 'tcp', port: 3478, targetPort: 3478, protocol: 'TCP' },
      { name: 'tls', port: 5349, targetPort: 5349, protocol: 'TCP' },
    ]);
  });

  test('a ClusterIP Service carries no external traffic policy', () => {
    const service = byKind(render(sampleRelay('peers-in-cluster-service.yaml')).objects, 'Service') as V1Service;
    expect(service.spec!.type).toBe('ClusterIP');
    expect(service.spec!.externalTrafficPolicy).toBeUndefined();
  });

  test('TLS: Certificate from the issuer, key pair mounted read-only at /tls, config points at it', () => {
    const rendered = render(sampleRelay('full-tls-cert-manager.yaml'));
    expect(rendered.tlsSecretName).toBe('edge-tls');
    const certificate = byKind(rendered.objects, 'Certificate') as { spec: Record<string, unknown> };
    expect(certificate).toMatchObject({ apiVersion: 'cert-manager.io/v1' });
    expect(certificate.spec).toMatchObject({
      secretName: 'edge-tls',
      dnsNames: ['turn.example.com'],
      issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    });
    const pod = deploymentOf(rendered.objects).spec!.template.spec!;
    expect(pod.volumes!.find((v) => v.name === 'tls')?.secret?.secretName).toBe('edge-tls');
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/tls', readOnly: true });
    expect(rendered.relayConfig.tls).toEqual({
      certFile: '/tls/tls.crt',
      keyFile: '/tls/tls.key',
      minVersion: 'TLSv1.2',
    });
  });

  test('TLS without cert-manager renders no Certificate but still mounts the expected Secret', () => {
    const rendered = render(sampleRelay('full-tls-cert-manager.yaml'), { certManager: false });
    expect(rendered.objects.map((o) => o.kind)).not.toContain('Certificate');
    expect(rendered.tlsSecretName).toBe('edge-tls');
  });

  test('TLS from an existing Secret renders no Certificate', () => {
    const manifest = structuredClone(loadSample('full-tls-cert-manager.yaml').manifest);
    manifest.spec.tls = { secretName: 'my-tls' };
    const rendered = render(asRelay(manifest));
    expect(rendered.objects.map((o) => o.kind)).not.toContain('Certificate');
    expect(rendered.tlsSecretName).toBe('my-tls');
  });

  test('spec.tls without a TLS listener (refused by the schema) still renders no Certificate and no TLS mount', () => {
    const full = asRelay(loadSample('full-tls-cert-manager.yaml').manifest);
    const relay = asRelay(loadSample('udp-only.yaml').manifest);
    relay.spec.tls = full.spec.tls;
    const rendered = render(relay);
    expect(rendered.objects.map((o) => o.kind)).not.toContain('Certificate');
    expect(rendered.tlsSecretName).toBeUndefined();
    expect(rendered.relayConfig.tls).toBeUndefined();
  });

  test('no TLS listener: no TLS volume, no tls config', () => {
    const rendered = render(sampleRelay('udp-only.yaml'));
    expect(rendered.tlsSecretName).toBeUndefined();
    expect(rendered.relayConfig.tls).toBeUndefined();
    expect(deploymentOf(rendered.objects).spec!.template.spec!.volumes!.map((v) => v.name)).toEqual([
      'config',
      'auth',
      'tmp',
    ]);
  });

  test('HostNetwork: host-network pods, one per node, node address advertised', () => {
    const rendered = render(sampleRelay('hostnetwork-p2p.yaml'));
    const deployment = deploymentOf(rendered.objects);
    const pod = deployment.spec!.template.spec!;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'turnrelay', 'app.kubernetes.io/instance': 'p2p' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
    expect(pod.nodeSelector).toEqual({ 'node-role.example.com/edge': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'node-role.example.com/edge', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(deployment.spec!.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    expect(deployment.spec!.replicas).toBe(3);
    expect((byKind(rendered.objects, 'Service') as V1Service).spec).toMatchObject({
      type: 'ClusterIP',
      clusterIP: 'None',
    });
    expect(rendered.relayConfig.relay).toMatchObject({
      externalAddress: '198.51.100.10',
      portRange: { min: 40000, max: 49999 },
    });
  });

  describe('listeners below 1024 (TURN over TLS on 443, TCP on 80), still non-root', () => {
    const withListeners = (file: string, listeners: TurnRelayManifest['spec']['listeners']) => {
      const manifest = structuredClone(loadSample(file).manifest);
      manifest.spec.listeners = listeners;
      return deploymentOf(render(asRelay(manifest)).objects).spec!.template.spec!;
    };
    const low = [
      { protocol: 'UDP', port: 3478 },
      { protocol: 'TCP', port: 80 },
      { protocol: 'TLS', port: 443 },
    ] as const;

    test('pod network: the unprivileged-port sysctl lowered to the lowest such port, no capability, image entrypoint', () => {
      const pod = withListeners('full-tls-cert-manager.yaml', [...low]);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }],
      });
      const container = pod.containers[0]!;
      expect(container.command).toBeUndefined();
      expect(container.securityContext!.capabilities).toEqual({ drop: ['ALL'] });
      expect(container.securityContext!.allowPrivilegeEscalation).toBe(false);
    });

    test('host network: no sysctl; NET_BIND_SERVICE added and the launcher started, everything else restricted', () => {
      const pod = withListeners('hostnetwork-p2p.yaml', [
        { protocol: 'UDP', port: 3478 },
        { protocol: 'TCP', port: 443 },
      ]);
      expect(pod.hostNetwork).toBe(true);
      expect(pod.securityContext!.sysctls).toBeUndefined();
      const container = pod.containers[0]!;
      expect(container.command).toEqual(['/app/build/launcher/turnrelay-net-bind', '/app/dist/cli/turnrelay.js']);
      expect(container.args).toEqual(['relay', '--config', '/etc/turnrelay/config.yaml']);
      expect(container.securityContext).toEqual({
        ...RESTRICTED_CONTAINER,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      });
    });

    test.each(['udp-only.yaml', 'hostnetwork-p2p.yaml'])(
      '%s with every listener at 1024 or above: neither sysctl nor capability',
      (file) => {
        const pod = withListeners(file, [
          { protocol: 'UDP', port: 1024 },
          { protocol: 'TCP', port: 5349 },
        ]);
        expect(pod.securityContext!.sysctls).toBeUndefined();
        expect(pod.containers[0]!.command).toBeUndefined();
        expect(pod.containers[0]!.securityContext!.capabilities).toEqual({ drop: ['ALL'] });
      },
    );
  });

  test('HostNetwork with several node addresses leaves the relayed address to each pod', () => {
    const rendered = render(sampleRelay('hostnetwork-p2p.yaml'), { nodeAddresses: ['198.51.100.10', '198.51.100.11'] });
    expect(rendered.relayConfig.relay.externalAddress).toBeUndefined();
    expect(rendered.relayConfig.relay.externalAddressMap).toBeUndefined();
  });

  test('HostNetwork nodes behind 1:1 NAT: one config maps every node internal address to its external one', () => {
    const nodeAddressMap = [
      { internal: '10.0.0.10', external: '198.51.100.10' },
      { internal: '10.0.0.11', external: '198.51.100.11' },
    ];
    const rendered = render(sampleRelay('hostnetwork-p2p.yaml'), {
      nodeAddresses: ['198.51.100.10', '198.51.100.11'],
      nodeAddressMap,
    });
    expect(rendered.relayConfig.relay.externalAddressMap).toEqual(nodeAddressMap);
    // Outside HostNetwork the map is never used: the Service's address is what clients reach.
    expect(
      render(sampleRelay('udp-only.yaml'), { serviceIngress: ['203.0.113.7'], nodeAddressMap }).relayConfig.relay
        .externalAddressMap,
    ).toBeUndefined();
  });

  test('HostNetwork keeps user affinity next to the one-per-node rule', () => {
    const manifest = structuredClone(loadSample('hostnetwork-p2p.yaml').manifest);
    const nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
      },
    };
    manifest.spec.affinity = { nodeAffinity };
    const pod = deploymentOf(render(asRelay(manifest)).objects).spec!.template.spec!;
    expect(pod.affinity?.nodeAffinity).toEqual(nodeAffinity);
    expect(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
  });

  test('LoadBalancer mode advertises the load-balancer address; explicit addresses win', () => {
    expect(render(sampleRelay('udp-only.yaml')).relayConfig.relay.externalAddress).toBe('203.0.113.7');
    const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
    manifest.spec.network = { externalAddresses: ['192.0.2.1', '2001:db8::1'] };
    const relay = render(asRelay(manifest)).relayConfig.relay;
    expect(relay).toMatchObject({ externalAddress: '192.0.2.1', externalAddress6: '2001:db8::1', host6: '::' });
  });

  test('autoscaling: HPA on CPU and no fixed replica count on the Deployment', () => {
    const { objects } = render(sampleRelay('autoscaled.yaml'));
    const hpa = byKind(objects, 'HorizontalPodAutoscaler') as V2HorizontalPodAutoscaler;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 20,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'autoscaled' },
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
    });
    // Kubernetes' own default window unless the spec sets one.
    expect(hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
    const deployment = deploymentOf(objects);
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(deployment.spec!.template.spec!.containers[0]!.resources).toEqual({
      requests: { cpu: '250m', memory: '128Mi' },
    });
  });

  test('autoscaling: scaleDownStabilization becomes the HPA scale-down window', () => {
    const relay = sampleRelay('autoscaled.yaml');
    relay.spec.autoscaling!.scaleDownStabilization = '1m30s';
    const hpa = byKind(render(relay).objects, 'HorizontalPodAutoscaler') as V2HorizontalPodAutoscaler;
    expect(hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(90);
    relay.spec.autoscaling!.scaleDownStabilization = '0s';
    const immediate = byKind(render(relay).objects, 'HorizontalPodAutoscaler') as V2HorizontalPodAutoscaler;
    expect(immediate.spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(0);
  });

  test('replicas default to 1 and follow spec.replicas', () => {
    expect(deploymentOf(render(sampleRelay('udp-only.yaml')).objects).spec!.replicas).toBe(1);
    expect(deploymentOf(render(sampleRelay('full-tls-cert-manager.yaml')).objects).spec!.replicas).toBe(2);
  });

  test('termination grace covers the drain period', () => {
    expect(
      deploymentOf(render(sampleRelay('hostnetwork-p2p.yaml')).objects).spec!.template.spec!
        .terminationGracePeriodSeconds,
    ).toBe(1830);
    const rendered = render(sampleRelay('full-tls-cert-manager.yaml'));
    expect(deploymentOf(rendered.objects).spec!.template.spec!.terminationGracePeriodSeconds).toBe(3630);
    expect(rendered.relayConfig.drain.gracePeriodSeconds).toBe(3600);
  });

  test('peer allow-list: spec CIDRs plus Service endpoints as host routes, sorted and de-duplicated', () => {
    const { relayConfig } = render(sampleRelay('peers-in-cluster-service.yaml'));
    expect(relayConfig.peers).toEqual({
      allowCIDRs: ['10.20.0.0/16', '10.96.4.1/32', '10.96.4.2/32', 'fd00::5/128'],
      denyCIDRs: ['169.254.0.0/16'],
    });
  });

  test('limits, realm and log level reach the relay config', () => {
    const { relayConfig } = render(sampleRelay('autoscaled.yaml'));
    expect(relayConfig.realm).toBe('turn.example.com');
    expect(relayConfig.limits).toMatchObject({
      maxAllocations: 5000,
      maxAllocationsPerUser: 5,
      maxBitrateKbps: 4000,
      maxLifetimeSeconds: 3600,
    });
    expect(relayConfig.auth).toMatchObject({ secretsFile: '/auth/secrets', usersFile: '/auth/users' });
    expect(relayConfig.admin).toEqual({ host: '0.0.0.0', port: 9641 });
  });

  test('NetworkPolicy admits listener ports, the relay port range and the admin port', () => {
    const policy = byKind(render(sampleRelay('hostnetwork-p2p.yaml')).objects, 'NetworkPolicy') as V1NetworkPolicy;
    expect(policy.spec!.policyTypes).toEqual(['Ingress']);
    expect(policy.spec!.ingress).toEqual([
      {
        ports: [
          { protocol: 'UDP', port: 3478 },
          { protocol: 'TCP', port: 3478 },
          { protocol: 'UDP', port: 40000, endPort: 49999 },
          { protocol: 'TCP', port: 9641 },
        ],
      },
    ]);
  });

  test('PodDisruptionBudget allows one voluntary eviction at a time', () => {
    const pdb = byKind(render(sampleRelay('udp-only.yaml')).objects, 'PodDisruptionBudget') as { spec: unknown };
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'turnrelay', 'app.kubernetes.io/instance': 'udp-only' } },
    });
  });

  test('ServiceAccount mounts no token', () => {
    expect(
      (
        byKind(render(sampleRelay('udp-only.yaml')).objects, 'ServiceAccount') as {
          automountServiceAccountToken: boolean;
        }
      ).automountServiceAccountToken,
    ).toBe(false);
  });

  test('the restart checksum ignores live-reloadable changes and follows listener changes', () => {
    const base = loadSample('peers-in-cluster-service.yaml').manifest;
    const edited = structuredClone(base);
    edited.spec.limits = { maxAllocations: 5 };
    edited.spec.peers!.denyCIDRs = ['192.0.2.0/24'];
    edited.spec.realm = 'other.example.com';
    expect(restartChecksum(edited, { allowedServiceIPs: ['10.0.0.9'] })).toBe(restartChecksum(base));
    const relistened = structuredClone(base);
    relistened.spec.listeners = [{ protocol: 'UDP', port: 3479 }];
    expect(restartChecksum(relistened)).not.toBe(restartChecksum(base));
  });

  test('spec.dataPlane: absent leaves the relay default (native); set, it reaches the config and rolls the pods', () => {
    const base = loadSample('udp-only.yaml').manifest;
    expect(render(asRelay(base)).relayConfig.relay.dataPlane).toBeUndefined();
    for (const dataPlane of ['node', 'native'] as const) {
      const chosen = structuredClone(base);
      chosen.spec.dataPlane = dataPlane;
      expect(render(asRelay(chosen)).relayConfig.relay.dataPlane).toBe(dataPlane);
      expect(restartChecksum(chosen)).not.toBe(restartChecksum(base));
    }
    const wrong = structuredClone(base);
    Object.assign(wrong.spec, { dataPlane: 'gpu' }); // not a value the type allows, as YAML could say
    expect(() => asRelay(wrong)).toThrow(/dataPlane/);
  });

  test('spec.coalesceMicroseconds: absent leaves the relay default; set (0 too), it reaches the config and rolls the pods', () => {
    const base = loadSample('udp-only.yaml').manifest;
    expect(render(asRelay(base)).relayConfig.relay.coalesceMicros).toBeUndefined();
    const seen = new Set([restartChecksum(base)]);
    for (const micros of [0, 250, 10_000]) {
      const chosen = structuredClone(base);
      chosen.spec.coalesceMicroseconds = micros;
      expect(render(asRelay(chosen)).relayConfig.relay.coalesceMicros).toBe(micros);
      seen.add(restartChecksum(chosen));
    }
    expect(seen.size).toBe(4); // every value its own pod template
  });

  test('a spec image overrides the operator default', () => {
    const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
    manifest.spec.image = 'registry.example/turnrelay:pinned';
    expect(deploymentOf(render(asRelay(manifest)).objects).spec!.template.spec!.containers[0]!.image).toBe(
      'registry.example/turnrelay:pinned',
    );
    expect(deploymentOf(render(sampleRelay('udp-only.yaml')).objects).spec!.template.spec!.containers[0]!.image).toBe(
      'ghcr.io/example/turnrelay:1.0.0',
    );
  });

  test('refuses to render a TurnRelay without a uid (owner references need it)', () => {
    const relay = sampleRelay('udp-only.yaml');
    delete relay.metadata.uid;
    expect(() => render(relay)).toThrow(/metadata\.uid/);
  });
});
