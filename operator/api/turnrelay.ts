// The TurnRelay API (turnrelay.dev/v1alpha1), written once in zod: the operator
// validates with it and operator/api/crd.ts turns it into the CRD. Every field
// carries a description (shown by `kubectl explain`); cross-field rules are CEL
// expressions in `x-kubernetes-validations`, so the API server refuses invalid
// specs before the operator ever sees them. zod refinements mirror every CEL
// rule, so validate.ts and the API server agree (test/k8s/api-schema.test.ts
// runs the same invalid specs against both).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { z } from 'zod';
import { parseDuration } from '../../shared/duration.js';
import { DURATION_PATTERN } from './duration.js';
import { isCidr } from './cidr.js';
import { ADMIN_PORT, ADMIN_PORT_NAME } from './constants.js';

export const API_GROUP = 'turnrelay.dev';
export const API_VERSION = 'v1alpha1';
export const KIND = 'TurnRelay';
export const PLURAL = 'turnrelays';
export const SINGULAR = 'turnrelay';
export const SHORT_NAMES = ['tr'];

/** Port a listener gets when `port` is omitted. */
export const DEFAULT_LISTENER_PORTS = { UDP: 3478, TCP: 3478, TLS: 5349 } as const;

// CEL fragments for a listener's effective name and port (defaults depend on
// the protocol, which a structural-schema default cannot express).
const celName = (l: string) => `(has(${l}.name) ? ${l}.name : ${l}.protocol.lowerAscii())`;
const celPort = (l: string) => `(has(${l}.port) ? ${l}.port : (${l}.protocol == 'TLS' ? 5349 : 3478))`;
const celIsUdp = (l: string) => `(${l}.protocol == 'UDP')`;

type Rule = { rule: string; message: string; fieldPath?: string; reason?: string };
const cel = (...rules: Rule[]) => ({ 'x-kubernetes-validations': rules });

const DURATION_RE = new RegExp(DURATION_PATTERN);
const duration = (description: string, fallback: string, minimum: string, maximum?: string) => {
  const range = maximum ? `${minimum} to ${maximum}` : `at least ${minimum}`;
  const [min, max] = [parseDuration(minimum), maximum === undefined ? Infinity : parseDuration(maximum)];
  return (
    z
      .string()
      .max(32)
      .regex(DURATION_RE, 'must be a duration such as 90s, 30m, 1h or 1h30m')
      // Malformed text is already reported by the pattern.
      .refine((text) => {
        if (!DURATION_RE.test(text)) return true;
        const value = parseDuration(text);
        return value >= min && value <= max;
      }, `must be ${range}`)
      .default(fallback)
      .meta({
        description: `${description} Go-style duration (e.g. 30m, 1h, 24h); ${range}.`,
        ...cel({
          rule:
            `duration(self) >= duration('${minimum}')` +
            (maximum ? ` && duration(self) <= duration('${maximum}')` : ''),
          message: `must be ${range}`,
        }),
      })
  );
};

const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');
const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase RFC 1123 subdomain');

const cidr = z
  .string()
  .max(64)
  .refine(isCidr, 'must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8')
  .meta({
    description: 'IPv4 or IPv6 CIDR.',
    ...cel({ rule: 'isCIDR(self)', message: 'must be an IPv4 or IPv6 CIDR' }),
  });

// Kubernetes quantities are written as numbers or strings ("500m", "1Gi").
const quantity = z
  .union([z.number().int(), z.string().max(64)])
  .meta({ description: 'Kubernetes resource quantity, e.g. 500m, 1, 256Mi.' });

export const ListenerSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(15)
      // IANA service name rules (container port names): no leading, trailing or double hyphen.
      .regex(
        /^[a-z](-?[a-z0-9])*$/,
        'must be a lowercase name starting with a letter, without double or trailing hyphens',
      )
      .refine((name) => name !== ADMIN_PORT_NAME, `"${ADMIN_PORT_NAME}" names the relay's metrics and health port`)
      .optional()
      .meta({
        description: `Port name on the Service and the pod (at most 15 characters; not "${ADMIN_PORT_NAME}"). Defaults to the lowercase protocol.`,
        ...cel({
          rule: `self != '${ADMIN_PORT_NAME}'`,
          message: `"${ADMIN_PORT_NAME}" names the relay's metrics and health port`,
        }),
      }),
    protocol: z.enum(['UDP', 'TCP', 'TLS']).meta({ description: 'Transport: UDP, TCP, or TLS (turns: over TCP).' }),
    port: z.number().int().min(1).max(65535).optional().meta({
      description:
        'Port clients connect to. Defaults to 3478 for UDP and TCP, 5349 for TLS. Ports below 1024 (e.g. TLS on 443) need no root: the operator renders the unprivileged-port sysctl, or NET_BIND_SERVICE in HostNetwork mode.',
    }),
  })
  .meta({ description: 'A port the relay accepts TURN clients on.' });

export const TlsSchema = z
  .strictObject({
    issuerRef: z
      .strictObject({
        name: dnsSubdomain.meta({ description: 'Name of the cert-manager Issuer or ClusterIssuer.' }),
        kind: z.enum(['Issuer', 'ClusterIssuer']).default('Issuer').meta({ description: 'Issuer or ClusterIssuer.' }),
        group: z.string().max(253).default('cert-manager.io').meta({ description: 'API group of the issuer.' }),
      })
      .optional()
      .meta({ description: 'Have cert-manager issue the certificate (a Certificate is created). Requires dnsNames.' }),
    dnsNames: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .regex(
            /^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/,
            'must be a DNS name',
          ),
      )
      .max(32)
      .optional()
      .meta({
        description: 'DNS names of the relay; the certificate covers them and turns: URLs in status use the first one.',
      }),
    secretName: dnsSubdomain.optional().meta({
      description: 'Use an existing kubernetes.io/tls Secret (keys tls.crt, tls.key) instead of cert-manager.',
    }),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').meta({ description: 'Lowest TLS version accepted.' }),
  })
  .refine(
    (t) => (t.issuerRef === undefined) !== (t.secretName === undefined),
    'exactly one of issuerRef or secretName must be set',
  )
  .refine((t) => !t.issuerRef || (t.dnsNames?.length ?? 0) > 0, {
    error: 'issuerRef needs at least one entry in dnsNames',
    path: ['dnsNames'],
  })
  .meta({
    description: 'Certificate for TLS listeners: exactly one of issuerRef or secretName.',
    ...cel(
      {
        rule: 'has(self.issuerRef) != has(self.secretName)',
        message: 'exactly one of issuerRef or secretName must be set',
      },
      {
        rule: '!has(self.issuerRef) || (has(self.dnsNames) && size(self.dnsNames) > 0)',
        message: 'issuerRef needs at least one entry in dnsNames',
        fieldPath: '.dnsNames',
      },
    ),
  });

export const AuthSchema = z
  .strictObject({
    secretRef: z
      .strictObject({ name: dnsSubdomain.meta({ description: 'Secret name.' }) })
      .optional()
      .meta({
        description:
          'Secret with the TURN REST shared secrets (key "secrets", the signing secret first) and optional static users (key "users", name:password per line). Created with random secrets if absent and never overwritten; defaults to <name>-turn-auth.',
      }),
    rotationInterval: duration(
      'How often a new shared secret is added to an operator-created auth Secret.',
      '24h',
      '1m',
    ),
    credentialTTL: duration(
      'Lifetime of minted TURN REST credentials; a replaced secret is kept at least this long.',
      '1h',
      '1m',
    ),
  })
  .meta({ description: 'Client authentication (long-term credentials and TURN REST shared secrets).' });

const portRange = z
  .strictObject({
    min: z.number().int().min(1024).max(65535).default(49152).meta({ description: 'Lowest relay port.' }),
    max: z.number().int().min(1024).max(65535).default(65535).meta({ description: 'Highest relay port.' }),
  })
  .refine((r) => r.min <= r.max, { error: 'min must not exceed max', path: ['min'] })
  .meta({
    description: 'UDP ports the relay allocates relayed addresses from.',
    ...cel({ rule: 'self.min <= self.max', message: 'min must not exceed max', fieldPath: '.min' }),
  });

export const NetworkSchema = z
  .strictObject({
    mode: z.enum(['LoadBalancer', 'HostNetwork']).default('LoadBalancer').meta({
      description:
        'LoadBalancer: pods behind a Service. HostNetwork: one pod per node on the host network, advertising the node addresses (public P2P relay).',
    }),
    service: z
      .strictObject({
        type: z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']).default('LoadBalancer').meta({
          description: 'Service type in LoadBalancer mode (HostNetwork mode always uses a headless ClusterIP Service).',
        }),
        annotations: z
          .record(z.string(), z.string())
          .default({})
          .meta({ description: 'Annotations for the Service, e.g. for the cloud load balancer.' }),
        externalTrafficPolicy: z.enum(['Local', 'Cluster']).default('Local').meta({
          description: 'Local keeps client source addresses (needed for per-IP limits) and avoids an extra hop.',
        }),
        loadBalancerClass: z.string().max(253).optional().meta({ description: 'Load balancer implementation class.' }),
      })
      .prefault({})
      .meta({ description: 'The Service in front of the listeners.' }),
    relayPortRange: portRange.prefault({ min: 49152, max: 65535 }),
    externalAddresses: z
      .array(z.ipv4().or(z.ipv6()))
      .max(2)
      .optional()
      .meta({
        description:
          'Addresses advertised in relayed candidates and ICE server URLs instead of the observed Service or node addresses (at most one IPv4 and one IPv6).',
        ...cel(
          { rule: 'self.all(a, isIP(a))', message: 'each entry must be an IP address' },
          {
            rule: "self.filter(a, a.contains(':')).size() <= 1 && self.filter(a, !a.contains(':')).size() <= 1",
            message: 'at most one IPv4 and one IPv6 address: a second address of the same family is never advertised',
          },
        ),
      }),
  })
  .refine(
    (n) =>
      !n.externalAddresses ||
      new Set(n.externalAddresses.map((a) => a.includes(':'))).size === n.externalAddresses.length,
    {
      error: 'at most one IPv4 and one IPv6 address: a second address of the same family is never advertised',
      path: ['externalAddresses'],
    },
  )
  .refine(
    (n) =>
      n.service.loadBalancerClass === undefined || (n.mode === 'LoadBalancer' && n.service.type === 'LoadBalancer'),
    {
      error:
        'loadBalancerClass only has an effect on a LoadBalancer Service (network.mode LoadBalancer, service.type LoadBalancer)',
      path: ['service', 'loadBalancerClass'],
    },
  )
  .meta({
    description: 'How clients and peers reach the relay.',
    ...cel({
      rule: "!has(self.service) || !has(self.service.loadBalancerClass) || ((!has(self.mode) || self.mode == 'LoadBalancer') && (!has(self.service.type) || self.service.type == 'LoadBalancer'))",
      message:
        'loadBalancerClass only has an effect on a LoadBalancer Service (network.mode LoadBalancer, service.type LoadBalancer)',
      fieldPath: '.service.loadBalancerClass',
    }),
  });

export const PeersSchema = z
  .strictObject({
    allowCIDRs: z.array(cidr).max(256).default([]).meta({
      description:
        'Peer ranges allowed in addition to the public internet (private ranges are denied unless listed here).',
    }),
    allowServices: z
      .array(
        z.strictObject({
          name: dnsLabel.meta({ description: 'Service name.' }),
          namespace: dnsLabel
            .optional()
            .meta({ description: "Service namespace; defaults to the TurnRelay's namespace." }),
        }),
      )
      .max(64)
      .default([])
      .meta({
        description: 'In-cluster Services (e.g. an SFU) whose endpoint addresses are allowed as peers, kept current.',
      }),
    denyCIDRs: z
      .array(cidr)
      .max(256)
      .default([])
      .meta({ description: 'Peer ranges always refused, even if allowed above.' }),
  })
  .meta({ description: 'Which peer addresses clients may relay to. Default: the public internet only.' });

export const LimitsSchema = z
  .strictObject({
    maxAllocations: z.number().int().min(1).default(10000).meta({ description: 'Allocations per relay pod.' }),
    maxAllocationsPerUser: z
      .number()
      .int()
      .min(1)
      .default(10)
      .meta({ description: 'Allocations per username per pod.' }),
    maxBitrateKbps: z
      .number()
      .int()
      .min(0)
      .default(0)
      .meta({ description: 'Bandwidth per allocation in kbit/s; 0 = unlimited.' }),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(10000)
      .meta({ description: 'Concurrent TCP/TLS client connections per pod.' }),
    maxConnectionsPerIp: z
      .number()
      .int()
      .min(1)
      .default(200)
      .meta({ description: 'Concurrent TCP/TLS connections per client IP.' }),
    maxLifetime: duration('Longest allocation lifetime a client may request.', '1h', '1m'),
    maxAllocationAge: duration(
      'How long an allocation keeps working with the credential it was created with, even after that credential expires (Refresh, CreatePermission, ChannelBind); expiry is checked when an allocation is created.',
      '24h',
      '1m',
    ),
  })
  .meta({ description: 'Resource bounds enforced by every relay pod.' });

export const MonitoringSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description:
        'Render a PodMonitor and a PrometheusRule for the relay pods when the Prometheus Operator CRDs (monitoring.coreos.com/v1) are installed; false renders neither.',
    }),
    labels: z.record(z.string().max(316), z.string().max(63)).optional().meta({
      description:
        "Extra labels on the PodMonitor and PrometheusRule, e.g. what the Prometheus' podMonitorSelector and ruleSelector match (release: kube-prometheus-stack).",
    }),
    perUserTopK: z.number().int().min(0).max(1000).default(10).meta({
      description:
        'Users with their own per-user traffic series per pod (the K with the most bytes); the rest are summed as user="other". 0: only "other".',
    }),
  })
  .meta({ description: 'Prometheus monitoring of the relay pods.' });

export const AutoscalingSchema = z
  .strictObject({
    minReplicas: z.number().int().min(1).default(1).meta({ description: 'Fewest pods.' }),
    maxReplicas: z.number().int().min(1).meta({ description: 'Most pods.' }),
    targetCPUUtilization: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(70)
      .meta({ description: 'Average CPU utilisation (percent of requests) to aim for.' }),
    scaleDownStabilization: duration(
      'How long CPU must stay low before a pod is removed (the HPA scales down to the highest recommendation of this window); a removed pod then drains for drain.gracePeriod.',
      '5m',
      '0s',
      '1h',
    ),
  })
  .refine((a) => a.minReplicas <= a.maxReplicas, {
    error: 'minReplicas must not exceed maxReplicas',
    path: ['minReplicas'],
  })
  .meta({
    description:
      'Scale with a HorizontalPodAutoscaler; exclusive with replicas. Pods need CPU requests (spec.resources).',
    ...cel({
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not exceed maxReplicas',
      fieldPath: '.minReplicas',
    }),
  });

const TolerationSchema = z.strictObject({
  key: z.string().max(316).optional().meta({ description: 'Taint key.' }),
  operator: z.enum(['Exists', 'Equal']).optional().meta({ description: 'Exists or Equal.' }),
  value: z.string().max(63).optional().meta({ description: 'Taint value.' }),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().meta({ description: 'Taint effect.' }),
  tolerationSeconds: z.number().int().optional().meta({ description: 'How long a NoExecute taint is tolerated.' }),
});

export const TurnRelaySpecSchema = z
  .strictObject({
    realm: z
      .string()
      .min(1)
      .max(127) // the REALM attribute's limit (RFC 8489)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/, 'must be a hostname-like realm')
      .default('turnrelay')
      .meta({ description: 'Authentication realm (REALM attribute), usually the relay DNS name.' }),
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({ description: "Relay container image; defaults to the operator's --relay-image." }),
    logLevel: z
      .enum(['debug', 'info', 'warn', 'error'])
      .default('info')
      .meta({ description: 'Relay log level (payloads, passwords and secrets are never logged).' }),
    dataPlane: z
      .enum(['native', 'node'])
      .optional()
      .meta({
        description:
          'UDP relaying implementation. Default: native (C++, one thread per CPU the pod may use, in the image). ' +
          'node: the JavaScript plane. Changing it restarts the relay pods.',
      }),
    coalesceMicroseconds: z
      .number()
      .int()
      .min(0)
      .max(10000)
      .optional()
      .meta({
        description:
          'Native data plane: after a wakeup that relayed packets without a backlog, each thread waits this long ' +
          'so that several datagrams share each system call (less CPU per packet at light load, at most this much ' +
          'added delay per relayed hop). Default: the relay default, 1000; 0 turns the pause off. ' +
          'Changing it restarts the relay pods.',
      }),
    listeners: z
      .array(ListenerSchema)
      .min(1)
      .max(8)
      .default([
        { name: 'udp', protocol: 'UDP', port: 3478 },
        { name: 'tcp', protocol: 'TCP', port: 3478 },
      ])
      .superRefine((listeners, ctx) => {
        listeners.forEach((a, i) => {
          const clash = listeners.findIndex((b) => listenerName(b) === listenerName(a));
          if (clash < i)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `listener name "${listenerName(a)}" is already used by listener ${clash}`,
            });
          const portClash = listeners.findIndex(
            (b) => listenerPort(b) === listenerPort(a) && (a.protocol === 'UDP') === (b.protocol === 'UDP'),
          );
          if (portClash < i)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'port'],
              message: `port ${listenerPort(a)} is already used by listener ${portClash} on the same transport`,
            });
        });
      })
      .meta({
        description: 'Ports the relay listens on. Default: UDP and TCP on 3478.',
        ...cel(
          {
            rule: `self.all(a, self.exists_one(b, ${celName('b')} == ${celName('a')}))`,
            message: 'listener names (default: the lowercase protocol) must be unique',
          },
          {
            rule: `self.all(a, self.exists_one(b, ${celPort('b')} == ${celPort('a')} && ${celIsUdp('a')} == ${celIsUdp('b')}))`,
            message: 'two listeners use the same port on the same transport (TCP and TLS both use TCP)',
          },
        ),
      }),
    tls: TlsSchema.optional(),
    auth: AuthSchema.prefault({}),
    network: NetworkSchema.prefault({}),
    peers: PeersSchema.prefault({}),
    limits: LimitsSchema.prefault({}),
    monitoring: MonitoringSchema.prefault({}),
    replicas: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Fixed number of relay pods (default 1); exclusive with autoscaling.' }),
    autoscaling: AutoscalingSchema.optional(),
    drain: z
      .strictObject({
        gracePeriod: duration(
          'How long a stopping pod keeps relaying existing allocations (no new ones) before it exits.',
          '1h',
          '0s',
        ),
      })
      .prefault({})
      .meta({ description: 'Graceful shutdown on scale-down and rollout.' }),
    resources: z
      .strictObject({
        limits: z.record(z.string(), quantity).optional().meta({ description: 'Resource limits.' }),
        requests: z.record(z.string(), quantity).optional().meta({ description: 'Resource requests.' }),
      })
      .optional()
      .meta({ description: 'Compute resources of the relay container.' }),
    nodeSelector: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Node labels the relay pods must match.' }),
    tolerations: z.array(TolerationSchema).max(64).optional().meta({ description: 'Taints the relay pods tolerate.' }),
    affinity: z.record(z.string(), z.unknown()).optional().meta({
      description:
        'Pod affinity (core/v1 Affinity). In HostNetwork mode a required one-pod-per-node anti-affinity is added.',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
  })
  .refine((s) => !s.listeners.some((l) => l.protocol === 'TLS') || s.tls !== undefined, {
    error: 'a TLS listener needs spec.tls',
    path: ['tls'],
  })
  .refine((s) => s.tls === undefined || s.listeners.some((l) => l.protocol === 'TLS'), {
    error: 'spec.tls only has an effect with a TLS listener: add one to spec.listeners or remove spec.tls',
    path: ['tls'],
  })
  .refine((s) => s.coalesceMicroseconds === undefined || s.dataPlane !== 'node', {
    error: 'coalesceMicroseconds only has an effect on the native data plane: remove it or spec.dataPlane: node',
    path: ['coalesceMicroseconds'],
  })
  .refine((s) => s.replicas === undefined || s.autoscaling === undefined, {
    error: 'replicas and autoscaling are mutually exclusive',
    path: ['replicas'],
  })
  .refine((s) => !s.autoscaling || s.resources?.requests?.['cpu'] !== undefined, {
    error: 'autoscaling on CPU utilisation needs spec.resources.requests.cpu',
    path: ['resources'],
  })
  .superRefine((s, ctx) => {
    const range = s.network.relayPortRange;
    s.listeners.forEach((listener, i) => {
      const port = listenerPort(listener);
      if (listener.protocol !== 'UDP' && port === ADMIN_PORT) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'port'],
          message: `TCP port ${ADMIN_PORT} is reserved for the relay's metrics and health endpoints`,
        });
      }
      if (listener.protocol === 'UDP' && port >= range.min && port <= range.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'port'],
          message: `UDP port ${port} lies inside spec.network.relayPortRange ${range.min}-${range.max}`,
        });
      }
    });
  })
  .meta({
    description: 'Desired state of a TURN relay.',
    ...cel(
      {
        rule: "!has(self.listeners) || !self.listeners.exists(l, l.protocol == 'TLS') || has(self.tls)",
        message: 'a TLS listener needs spec.tls',
        fieldPath: '.tls',
        reason: 'FieldValueRequired',
      },
      {
        rule: "!has(self.tls) || (has(self.listeners) && self.listeners.exists(l, l.protocol == 'TLS'))",
        message: 'spec.tls only has an effect with a TLS listener: add one to spec.listeners or remove spec.tls',
        fieldPath: '.tls',
      },
      {
        rule: "!has(self.coalesceMicroseconds) || !has(self.dataPlane) || self.dataPlane != 'node'",
        message: 'coalesceMicroseconds only has an effect on the native data plane: remove it or spec.dataPlane: node',
        fieldPath: '.coalesceMicroseconds',
      },
      {
        rule: '!(has(self.replicas) && has(self.autoscaling))',
        message: 'replicas and autoscaling are mutually exclusive',
        fieldPath: '.replicas',
      },
      {
        rule: "!has(self.autoscaling) || (has(self.resources) && has(self.resources.requests) && 'cpu' in self.resources.requests)",
        message: 'autoscaling on CPU utilisation needs spec.resources.requests.cpu',
        fieldPath: '.resources',
      },
      {
        rule: `!has(self.listeners) || self.listeners.all(l, l.protocol == 'UDP' || ${celPort('l')} != ${ADMIN_PORT})`,
        message: `TCP port ${ADMIN_PORT} is reserved for the relay's metrics and health endpoints`,
        fieldPath: '.listeners',
      },
      {
        rule: `!has(self.listeners) || !has(self.network) || !has(self.network.relayPortRange) || self.listeners.all(l, l.protocol != 'UDP' || ${celPort('l')} < self.network.relayPortRange.min || ${celPort('l')} > self.network.relayPortRange.max)`,
        message: 'a UDP listener port lies inside spec.network.relayPortRange',
        fieldPath: '.listeners',
      },
    ),
  });

export const ConditionSchema = z.object({
  type: z.string().max(316).meta({
    description: 'Ready, Progressing, Degraded, CertificateReady, or the kstatus conventions Reconciling and Stalled.',
  }),
  status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
  reason: z.string().max(1024).optional().meta({ description: 'Machine-readable CamelCase reason.' }),
  message: z.string().max(32768).optional().meta({ description: 'Human-readable details.' }),
  lastTransitionTime: z
    .string()
    .optional()
    .meta({ description: 'When status last changed (RFC 3339).', format: 'date-time' }),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Generation the condition was computed from.' }),
});

export const TurnRelayStatusSchema = z
  .object({
    observedGeneration: z.number().int().optional().meta({ description: 'Generation of the spec last reconciled.' }),
    conditions: z
      .array(ConditionSchema)
      .optional()
      .meta({
        description:
          'Ready, Progressing, Degraded and CertificateReady, plus Reconciling and Stalled (kstatus conventions for GitOps tools).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    replicas: z.number().int().optional().meta({ description: 'Relay pods (scale subresource).' }),
    readyReplicas: z.number().int().optional().meta({ description: 'Ready relay pods.' }),
    selector: z.string().optional().meta({ description: 'Label selector of the relay pods (scale subresource).' }),
    iceServers: z.array(z.string()).optional().meta({
      description: 'TURN URIs to put in RTCConfiguration.iceServers, e.g. turn:203.0.113.7:3478?transport=udp.',
    }),
    endpoints: z.string().optional().meta({ description: 'Addresses clients reach the relay on (comma-separated).' }),
    authSecretName: z.string().optional().meta({ description: 'Secret with the TURN REST shared secrets.' }),
  })
  .meta({ description: 'Observed state of the relay.' });

export type TurnRelaySpecInput = z.input<typeof TurnRelaySpecSchema>;
export type TurnRelaySpec = z.output<typeof TurnRelaySpecSchema>;
export type TurnRelayStatus = z.output<typeof TurnRelayStatusSchema>;
export type Listener = z.output<typeof ListenerSchema>;
export type TurnRelayCondition = z.output<typeof ConditionSchema>;

export type TurnRelay = {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: TurnRelaySpec;
  status?: TurnRelayStatus;
};

export function listenerPort(listener: Listener): number {
  return listener.port ?? DEFAULT_LISTENER_PORTS[listener.protocol];
}

export function listenerName(listener: Listener): string {
  return listener.name ?? listener.protocol.toLowerCase();
}
