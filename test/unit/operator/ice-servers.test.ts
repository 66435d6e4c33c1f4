import { iceServerUrls } from '../../../operator/render/ice-servers.js';
import type { Observed } from '../../../operator/render/observed.js';
import { asRelay, loadSample, sampleRelay } from './support/samples.js';

const observed = (o: Partial<Observed>): Observed => ({
  serviceIngress: [],
  nodeAddresses: [],
  allowedServiceIPs: [],
  certManager: true,
  ...o,
});

describe('iceServerUrls', () => {
  test('one URI per listener on the load-balancer address; turns: on the certificate name', () => {
    expect(
      iceServerUrls(sampleRelay('full-tls-cert-manager.yaml'), observed({ serviceIngress: ['203.0.113.7'] })),
    ).toEqual([
      'turn:203.0.113.7:3478?transport=udp',
      'turn:203.0.113.7:3478?transport=tcp',
      'turns:turn.example.com:5349?transport=tcp',
    ]);
  });

  test('IPv6 addresses are bracketed; hostnames pass through', () => {
    expect(
      iceServerUrls(sampleRelay('udp-only.yaml'), observed({ serviceIngress: ['2001:db8::7', 'lb.example.net'] })),
    ).toEqual(['turn:[2001:db8::7]:3478?transport=udp', 'turn:lb.example.net:3478?transport=udp']);
  });

  test('HostNetwork lists every node address, not the Service', () => {
    expect(
      iceServerUrls(
        sampleRelay('hostnetwork-p2p.yaml'),
        observed({ serviceIngress: ['203.0.113.7'], nodeAddresses: ['198.51.100.1', '198.51.100.2'] }),
      ),
    ).toEqual([
      'turn:198.51.100.1:3478?transport=udp',
      'turn:198.51.100.2:3478?transport=udp',
      'turn:198.51.100.1:3478?transport=tcp',
      'turn:198.51.100.2:3478?transport=tcp',
    ]);
  });

  test('no address observed yet: no URIs except TLS on its DNS name', () => {
    expect(iceServerUrls(sampleRelay('udp-only.yaml'), observed({}))).toEqual([]);
    expect(iceServerUrls(sampleRelay('full-tls-cert-manager.yaml'), observed({}))).toEqual([
      'turns:turn.example.com:5349?transport=tcp',
    ]);
  });

  test('wildcard certificate names are skipped for turns: URIs', () => {
    const manifest = structuredClone(loadSample('full-tls-cert-manager.yaml').manifest);
    manifest.spec.tls!.dnsNames = ['*.example.com', 'relay.example.com'];
    expect(iceServerUrls(asRelay(manifest), observed({}))).toEqual(['turns:relay.example.com:5349?transport=tcp']);
  });

  test('a ClusterIP Service (in-cluster clients) is reached on its cluster IPs', () => {
    expect(
      iceServerUrls(sampleRelay('peers-in-cluster-service.yaml'), observed({ serviceClusterIPs: ['10.96.0.20'] })),
    ).toEqual(expect.arrayContaining(['turn:10.96.0.20:3478?transport=udp']));
    expect(
      iceServerUrls(
        sampleRelay('udp-only.yaml'),
        observed({ serviceIngress: ['203.0.113.7'], serviceClusterIPs: ['10.96.0.20'] }),
      ),
    ).toEqual(['turn:203.0.113.7:3478?transport=udp']);
  });

  test('explicit external addresses override what was observed', () => {
    const manifest = structuredClone(loadSample('udp-only.yaml').manifest);
    manifest.spec.network = { externalAddresses: ['192.0.2.1'] };
    expect(iceServerUrls(asRelay(manifest), observed({ serviceIngress: ['203.0.113.7'] }))).toEqual([
      'turn:192.0.2.1:3478?transport=udp',
    ]);
  });
});
