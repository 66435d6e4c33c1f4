// ICE URL parsing and the check table (pure); the checks themselves run
// against our relay in test/interop/check.test.ts.
import { formatCheckTable, parseIceUrl } from '../../../relay/client/ice-check.js';

test('ICE URLs map to the transport and default port a browser would use', () => {
  expect(parseIceUrl('turn:203.0.113.7')).toMatchObject({
    scheme: 'turn',
    host: '203.0.113.7',
    port: 3478,
    transport: 'udp',
  });
  expect(parseIceUrl('turn:203.0.113.7:3479?transport=tcp')).toMatchObject({ port: 3479, transport: 'tcp' });
  expect(parseIceUrl('turns:turn.example.com?transport=tcp')).toMatchObject({
    host: 'turn.example.com',
    port: 5349,
    transport: 'tls',
  });
  expect(parseIceUrl('turn:[2001:db8::1]:3478?transport=udp')).toMatchObject({ host: '2001:db8::1', transport: 'udp' });
  expect(parseIceUrl('stun:stun.example.com:19302')).toMatchObject({ scheme: 'stun', transport: 'udp', port: 19302 });
  for (const bad of [
    'http://x',
    'turn:',
    'turn:host:99999',
    'turns:host?transport=udp',
    'turn:host?transport=sctp',
    'turn:a b',
  ])
    expect(() => parseIceUrl(bad)).toThrow(/ICE server URL|port|transport=udp/);
});

test('the table has one aligned row per URL with the reason for failures', () => {
  const table = formatCheckTable([
    {
      url: 'turn:192.0.2.1:3478?transport=udp',
      transport: 'udp',
      reason: 'ok',
      detail: '',
      address: '192.0.2.1:50000',
      rttMs: 1.234,
    },
    { url: 'turns:turn.example.com:5349?transport=tcp', transport: 'tls', reason: 'TLS name mismatch', detail: 'x' },
  ]).split('\n');
  expect(table[0]).toMatch(/^URL\s+TRANSPORT\s+RESULT\s+RELAYED ADDRESS\s+RTT$/);
  expect(table[1]!.split(/\s{2,}/)).toEqual([
    'turn:192.0.2.1:3478?transport=udp',
    'udp',
    'ok',
    '192.0.2.1:50000',
    '1.2 ms',
  ]);
  expect(table[2]!.split(/\s{2,}/)).toEqual([
    'turns:turn.example.com:5349?transport=tcp',
    'tls',
    'FAIL: TLS name mismatch',
    '-',
    '-',
  ]);
  expect(table[1]!.search(/ {2}udp {2}/)).toBe(table[2]!.search(/ {2}tls {2}/));
});
