// Specs the API must refuse, each with the field the error has to name. Used
// against the zod schema (unit) and the real API server (test/k8s).
export type InvalidCase = { name: string; spec: Record<string, unknown>; field: string; message: RegExp };

const tls = { secretName: 'relay-tls' };

export const INVALID_SPECS: InvalidCase[] = [
  {
    name: 'spec.tls without a TLS listener',
    spec: { tls },
    field: 'spec.tls',
    message: /only has an effect with a TLS listener/,
  },
  {
    name: 'loadBalancerClass on a ClusterIP Service',
    spec: { network: { service: { type: 'ClusterIP', loadBalancerClass: 'example.com/lb' } } },
    field: 'spec.network.service.loadBalancerClass',
    message: /only has an effect on a LoadBalancer Service/,
  },
  {
    name: 'two external addresses of one family',
    spec: { network: { externalAddresses: ['203.0.113.1', '203.0.113.2'] } },
    field: 'spec.network.externalAddresses',
    message: /at most one IPv4 and one IPv6/,
  },
  {
    name: 'TLS listener without spec.tls',
    spec: { listeners: [{ protocol: 'TLS' }] },
    field: 'spec.tls',
    message: /TLS listener needs spec\.tls/,
  },
  {
    name: 'a coalescing pause with the JavaScript data plane',
    spec: { dataPlane: 'node', coalesceMicroseconds: 500 },
    field: 'spec.coalesceMicroseconds',
    message: /only has an effect on the native data plane/,
  },
  {
    name: 'a coalescing pause above 10 ms',
    spec: { coalesceMicroseconds: 10001 },
    field: 'spec.coalesceMicroseconds',
    message: /10000|less than or equal/,
  },
  {
    name: 'replicas and autoscaling together',
    spec: { replicas: 2, autoscaling: { maxReplicas: 4 }, resources: { requests: { cpu: '100m' } } },
    field: 'spec.replicas',
    message: /mutually exclusive/,
  },
  {
    name: 'tls with both issuerRef and secretName',
    spec: {
      listeners: [{ protocol: 'TLS' }],
      tls: { ...tls, issuerRef: { name: 'ca' }, dnsNames: ['turn.example.com'] },
    },
    field: 'spec.tls',
    message: /exactly one of issuerRef or secretName/,
  },
  {
    name: 'tls with neither issuerRef nor secretName',
    spec: { listeners: [{ protocol: 'TLS' }], tls: { dnsNames: ['turn.example.com'] } },
    field: 'spec.tls',
    message: /exactly one of issuerRef or secretName/,
  },
  {
    name: 'issuerRef without dnsNames',
    spec: { listeners: [{ protocol: 'TLS' }], tls: { issuerRef: { name: 'ca' } } },
    field: 'spec.tls.dnsNames',
    message: /dnsNames/,
  },
  {
    name: 'relay port range min above max',
    spec: { network: { relayPortRange: { min: 60000, max: 50000 } } },
    field: 'spec.network.relayPortRange.min',
    message: /min must not exceed max/,
  },
  {
    name: 'autoscaling minReplicas above maxReplicas',
    spec: { autoscaling: { minReplicas: 5, maxReplicas: 2 }, resources: { requests: { cpu: '100m' } } },
    field: 'spec.autoscaling.minReplicas',
    message: /minReplicas must not exceed maxReplicas/,
  },
  {
    name: 'autoscaling scale-down stabilization above the HPA limit of 1h',
    spec: {
      autoscaling: { maxReplicas: 3, scaleDownStabilization: '2h' },
      resources: { requests: { cpu: '100m' } },
    },
    field: 'spec.autoscaling.scaleDownStabilization',
    message: /must be 0s to 1h/,
  },
  {
    name: 'autoscaling without a CPU request',
    spec: { autoscaling: { maxReplicas: 3 } },
    field: 'spec.resources',
    message: /needs spec\.resources\.requests\.cpu/,
  },
  {
    name: 'malformed peer CIDR',
    spec: { peers: { allowCIDRs: ['10.0.0.0/33'] } },
    field: 'spec.peers.allowCIDRs[0]',
    message: /CIDR/,
  },
  {
    name: 'malformed duration',
    spec: { auth: { rotationInterval: 'daily' } },
    field: 'spec.auth.rotationInterval',
    message: /duration|should match/,
  },
  {
    name: 'rotation interval below the minimum',
    spec: { auth: { rotationInterval: '10s' } },
    field: 'spec.auth.rotationInterval',
    message: /at least 1m/,
  },
  {
    name: 'unknown protocol',
    spec: { listeners: [{ protocol: 'SCTP' }] },
    field: 'spec.listeners[0].protocol',
    message: /UDP|Unsupported value|Invalid option/,
  },
  {
    name: 'duplicate listener names',
    spec: { listeners: [{ protocol: 'UDP' }, { name: 'udp', protocol: 'TCP' }] },
    field: 'spec.listeners',
    message: /unique|already used/,
  },
  {
    name: 'TCP and TLS on the same port',
    spec: {
      listeners: [
        { protocol: 'TCP', port: 443 },
        { protocol: 'TLS', port: 443 },
      ],
      tls,
    },
    field: 'spec.listeners',
    message: /same port|already used/,
  },
  {
    name: 'UDP listener inside the relay port range',
    spec: { listeners: [{ protocol: 'UDP', port: 50000 }] },
    field: 'spec.listeners',
    message: /relayPortRange/,
  },
  {
    name: 'TCP listener on the admin port',
    spec: { listeners: [{ protocol: 'TCP', port: 9641 }] },
    field: 'spec.listeners',
    message: /reserved/,
  },
  {
    name: 'listener named like the admin port',
    spec: { listeners: [{ name: 'admin', protocol: 'UDP' }] },
    field: 'spec.listeners[0].name',
    message: /metrics and health port/,
  },
  {
    name: 'listener name with a double hyphen',
    spec: { listeners: [{ name: 'turn--udp', protocol: 'UDP' }] },
    field: 'spec.listeners[0].name',
    message: /hyphen|should match/,
  },
  {
    name: 'port out of range',
    spec: { listeners: [{ protocol: 'UDP', port: 70000 }] },
    field: 'spec.listeners[0].port',
    message: /65535|less than or equal/,
  },
];
