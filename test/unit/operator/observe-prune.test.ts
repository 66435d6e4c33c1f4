import {
  allowedServiceKeys,
  endpointIPs,
  nodeAddressMap,
  nodeAddresses,
  serviceClusterIPs,
  serviceIngress,
} from '../../../operator/reconcile/observe.js';
import { unwantedChildren } from '../../../operator/reconcile/prune.js';
import { microTime } from '../../../operator/runtime/leader-election.js';

test('service ingress: IPs or hostnames, sorted and unique', () => {
  expect(
    serviceIngress({
      status: {
        loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.9' }] },
      },
    }),
  ).toEqual(['203.0.113.9', 'lb.example.com']);
  expect(serviceIngress(undefined)).toEqual([]);
});

test('cluster IPs only for a ClusterIP Service, never "None"', () => {
  expect(
    serviceClusterIPs({ spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20', 'fd00::20'] } }),
  ).toEqual(['10.96.0.20', 'fd00::20']);
  expect(serviceClusterIPs({ spec: { type: 'ClusterIP', clusterIP: 'None' } })).toEqual([]);
  expect(serviceClusterIPs({ spec: { type: 'LoadBalancer', clusterIP: '10.96.0.21' } })).toEqual([]);
  expect(serviceClusterIPs(undefined)).toEqual([]);
});

/** A Node with these status addresses, as `Type=address` pairs. */
const node = (...addresses: string[]) => ({
  status: {
    addresses: addresses.map((a) => {
      const [type, address] = a.split('=');
      return { type: type!, address: address! };
    }),
  },
});

test('node address map: internal → external, else internal → itself, sorted', () => {
  expect(
    nodeAddressMap([
      node('InternalIP=10.0.0.2', 'ExternalIP=198.51.100.2'),
      node('InternalIP=10.0.0.1', 'ExternalIP=198.51.100.1'),
      node('InternalIP=203.0.113.5', 'ExternalIP=203.0.113.5'),
      node('InternalIP=10.0.0.3'),
      {},
    ]),
  ).toEqual([
    { internal: '10.0.0.1', external: '198.51.100.1' },
    { internal: '10.0.0.2', external: '198.51.100.2' },
    { internal: '10.0.0.3', external: '10.0.0.3' },
    { internal: '203.0.113.5', external: '203.0.113.5' },
  ]);
});

test('node addresses prefer ExternalIP over InternalIP', () => {
  expect(
    nodeAddresses([
      node('InternalIP=10.0.0.1', 'ExternalIP=198.51.100.1'),
      node('Hostname=n2', 'InternalIP=10.0.0.2'),
      { status: {} },
    ]),
  ).toEqual(['10.0.0.2', '198.51.100.1']);
});

test('endpoint IPs of allowed Services skip unready endpoints and other Services', () => {
  const relay = {
    metadata: { namespace: 'media' },
    spec: { peers: { allowServices: [{ name: 'sfu' }, { name: 'db', namespace: 'data' }] } },
  };
  const keys = allowedServiceKeys(relay);
  expect(keys).toEqual(['media/sfu', 'data/db']);
  const slice = (ns: string, svc: string, eps: Array<[string, boolean | undefined]>) => ({
    metadata: { namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: eps.map(([ip, ready]) => ({ addresses: [ip], conditions: ready === undefined ? {} : { ready } })),
  });
  expect(
    endpointIPs(
      [
        slice('media', 'sfu', [
          ['10.1.0.2', true],
          ['10.1.0.3', false],
          ['10.1.0.4', undefined],
        ]),
        slice('other', 'sfu', [['10.9.9.9', true]]),
        slice('data', 'db', [['10.2.0.1', true]]),
      ],
      keys,
    ),
  ).toEqual(['10.1.0.2', '10.1.0.4', '10.2.0.1']);
});

test('prune selects only owned, undesired, not already deleting children', () => {
  const owned = (kind: string, name: string, uid = 'u1', extra: Record<string, unknown> = {}) => ({
    kind,
    obj: {
      metadata: {
        name,
        ownerReferences: [
          { apiVersion: 'turnrelay.dev/v1alpha1', kind: 'TurnRelay', name: 'r', uid, controller: true },
        ],
        ...extra,
      },
    },
  });
  const live = [
    owned('Deployment', 'r'),
    owned('HorizontalPodAutoscaler', 'r'),
    owned('Certificate', 'r', 'other-uid'),
    owned('PodDisruptionBudget', 'r', 'u1', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
  ];
  const desired = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'r' } }];
  expect(unwantedChildren(live as never, desired, 'u1').map((c) => c.kind)).toEqual(['HorizontalPodAutoscaler']);
});

test('lease times are MicroTime with six fractional digits', () => {
  expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
});
