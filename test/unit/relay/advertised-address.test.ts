import { RelaySocketsSchema } from '../../../relay/config/schema.js';
import { advertisedAddress, isOwnRelayedAddress } from '../../../relay/server/advertised-address.js';

const relay = (input: Record<string, unknown>) => RelaySocketsSchema.parse(input);
const hostA = () => ['127.0.0.1', '10.0.0.11', 'fe80::1'];

describe('advertisedAddress (XOR-RELAYED-ADDRESS)', () => {
  test('an explicit external address wins over the map and the bind address', () => {
    const r = relay({
      host: '10.0.0.11',
      externalAddress: '203.0.113.7',
      externalAddressMap: [{ internal: '10.0.0.11', external: '198.51.100.11' }],
    });
    expect(advertisedAddress(r, 4, '10.0.0.11', hostA)).toBe('203.0.113.7');
  });

  test('one config for many nodes: each host advertises the external address of its own internal one', () => {
    const map = [
      { internal: '10.0.0.12', external: '198.51.100.12' },
      { internal: '10.0.0.11', external: '198.51.100.11' },
    ];
    expect(advertisedAddress(relay({ externalAddressMap: map }), 4, '0.0.0.0', hostA)).toBe('198.51.100.11');
    expect(advertisedAddress(relay({ externalAddressMap: map }), 4, '0.0.0.0', () => ['10.0.0.12'])).toBe(
      '198.51.100.12',
    );
  });

  test('no entry for this host: the bind address, else the address the client reached', () => {
    const map = [{ internal: '10.9.9.9', external: '198.51.100.99' }];
    expect(advertisedAddress(relay({ host: '10.0.0.11', externalAddressMap: map }), 4, '0.0.0.0', hostA)).toBe(
      '10.0.0.11',
    );
    expect(advertisedAddress(relay({ externalAddressMap: map }), 4, '10.0.0.11', hostA)).toBe('10.0.0.11');
  });

  test('a UDP listener on the unspecified address: the first routable interface address, never 0.0.0.0', () => {
    // A pod: loopback, then the pod IP; the client's destination is unknown (0.0.0.0).
    expect(advertisedAddress(relay({}), 4, '0.0.0.0', () => ['127.0.0.1', '169.254.1.1', '10.244.0.17'])).toBe(
      '10.244.0.17',
    );
    expect(
      advertisedAddress(relay({ host6: '::' }), 6, '::', () => ['::1', 'fe80::1', '10.244.0.17', 'fd00:10:244::17']),
    ).toBe('fd00:10:244::17');
    // Nothing routable of that family: the bind address, as before (the startup warning says so).
    expect(advertisedAddress(relay({}), 4, '0.0.0.0', () => ['127.0.0.1', 'fe80::1'])).toBe('0.0.0.0');
    // The address the client reached still comes first.
    expect(advertisedAddress(relay({}), 4, '10.0.0.11', () => ['10.244.0.17'])).toBe('10.0.0.11');
  });

  test('entries only apply to their own address family', () => {
    const r = relay({ host6: '::', externalAddressMap: [{ internal: '10.0.0.11', external: '198.51.100.11' }] });
    expect(advertisedAddress(r, 6, '2001:db8::5', hostA)).toBe('2001:db8::5');
  });

  test('the map is validated: addresses must be IP literals', () => {
    expect(() => relay({ externalAddressMap: [{ internal: 'node-1', external: '198.51.100.1' }] })).toThrow(
      /IPv4 or IPv6/,
    );
  });
});

describe('isOwnRelayedAddress (may allocations of this relay be handed each other’s datagrams in process)', () => {
  test('the bind address, or an interface address the relay picked, is this host’s own', () => {
    const bound = relay({ host: '10.0.0.11' });
    expect(isOwnRelayedAddress(bound, 4, advertisedAddress(bound, 4, '10.0.0.11', hostA), hostA)).toBe(true);
    const any = relay({});
    expect(isOwnRelayedAddress(any, 4, advertisedAddress(any, 4, '0.0.0.0', hostA), hostA)).toBe(true);
  });

  test('an external address (possibly a load balancer shared by several pods) is not, nor a mapped one', () => {
    const external = relay({ host: '10.0.0.11', externalAddress: '203.0.113.7' });
    expect(isOwnRelayedAddress(external, 4, advertisedAddress(external, 4, '10.0.0.11', hostA), hostA)).toBe(false);
    const mapped = relay({ externalAddressMap: [{ internal: '10.0.0.11', external: '198.51.100.11' }] });
    expect(isOwnRelayedAddress(mapped, 4, advertisedAddress(mapped, 4, '0.0.0.0', hostA), hostA)).toBe(false);
    // An IPv4 external address says nothing about IPv6 relayed addresses.
    const dual = relay({ host6: '2001:db8::11', externalAddress: '203.0.113.7' });
    expect(isOwnRelayedAddress(dual, 6, '2001:db8::11', hostA)).toBe(true);
  });

  test('the unspecified address (no routable interface) is never delivered to', () => {
    expect(isOwnRelayedAddress(relay({}), 4, '0.0.0.0', () => ['127.0.0.1'])).toBe(false);
  });
});
