import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, loadRelayConfigFile, parseRelayConfig } from '../../../relay/config/load.js';
import { restartOnlyChanges, unappliedChanges } from '../../../relay/reloader.js';

const minimal = `
listeners:
  - {protocol: udp, port: 3478}
auth: {secretsFile: /auth/secrets}
`;

function problemsOf(text: string): string[] {
  try {
    parseRelayConfig(text, 'relay.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('relay.yaml');
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

test('a minimal file gets every default', () => {
  const cfg = parseRelayConfig(minimal, 'relay.yaml');
  expect(cfg).toEqual({
    realm: 'turnrelay',
    software: 'turnrelay',
    listeners: [{ protocol: 'udp', host: '0.0.0.0', port: 3478 }],
    auth: {
      secretsFile: '/auth/secrets',
      nonceLifetimeSeconds: 600,
      maxFailuresPerIp: 20,
      failureWindowSeconds: 60,
      maxCredentialTTLSeconds: 604800,
    },
    relay: { host: '0.0.0.0', portRange: { min: 49152, max: 65535 } },
    peers: { allowCIDRs: [], denyCIDRs: [] },
    limits: {
      maxAllocations: 10000,
      maxAllocationsPerUser: 10,
      maxPermissionsPerAllocation: 64,
      maxChannelsPerAllocation: 64,
      defaultLifetimeSeconds: 600,
      maxLifetimeSeconds: 3600,
      maxBitrateKbps: 0,
      maxConnections: 10000,
      maxConnectionsPerIp: 200,
      firstMessageTimeoutSeconds: 10,
      connectionIdleTimeoutSeconds: 120,
      maxBufferedBytesPerConnection: 1048576,
      unauthenticatedResponsesPerSecond: 50,
      maxAllocationAgeSeconds: 86400,
    },
    admin: { host: '127.0.0.1', port: 9641 },
    metrics: { perUserTopK: 10 },
    drain: { gracePeriodSeconds: 3600 },
    log: { level: 'info' },
  });
});

test('the full contract example parses, as YAML and as JSON', () => {
  const full = `
realm: turn.example.com
software: turnrelay
listeners:
  - {protocol: udp, host: 0.0.0.0, port: 3478}
  - {protocol: tcp, host: 0.0.0.0, port: 3478}
  - {protocol: tls, host: 0.0.0.0, port: 5349}
tls: {certFile: /tls/tls.crt, keyFile: /tls/tls.key, minVersion: TLSv1.3}
auth: {secretsFile: /auth/secrets, usersFile: /auth/users, nonceLifetimeSeconds: 300, maxFailuresPerIp: 5, failureWindowSeconds: 30}
relay: {host: 0.0.0.0, host6: "::", externalAddress: 203.0.113.7, externalAddress6: "2001:db8::7", portRange: {min: 40000, max: 40100}}
peers: {allowCIDRs: [10.0.0.0/8, "fd00::/8"], denyCIDRs: [10.9.0.0/16]}
limits: {maxAllocations: 5, maxBitrateKbps: 2000}
admin: {host: 127.0.0.1, port: 0}
drain: {gracePeriodSeconds: 60}
log: {level: debug}
`;
  const cfg = parseRelayConfig(full, 'full.yaml');
  expect(cfg.tls).toEqual({ certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', minVersion: 'TLSv1.3' });
  expect(cfg.relay).toEqual({
    host: '0.0.0.0',
    host6: '::',
    externalAddress: '203.0.113.7',
    externalAddress6: '2001:db8::7',
    portRange: { min: 40000, max: 40100 },
  });
  expect(cfg.limits.maxAllocations).toBe(5);
  expect(cfg.limits.maxAllocationsPerUser).toBe(10);
  expect(parseRelayConfig(JSON.stringify(cfg), 'full.json')).toEqual(cfg);
});

test('unknown keys are rejected with their full path', () => {
  expect(problemsOf(`${minimal}\nlimits: {maxAllocation: 5}\n`)).toEqual(['limits.maxAllocation: unknown field']);
  expect(problemsOf(`${minimal}\nbogus: 1\n`)).toEqual(['bogus: unknown field']);
  expect(problemsOf('listeners: [{protocol: udp, port: 1, hots: x}]\nauth: {usersFile: /u}\n')).toEqual([
    'listeners[0].hots: unknown field',
  ]);
});

test('bad values name the field and say what was expected', () => {
  const problems = problemsOf(
    `${minimal}\nlimits: {maxAllocations: many}\nadmin: {port: 70000}\nrelay: {host: "::1"}\n`,
  );
  expect(problems).toHaveLength(3);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^limits\.maxAllocations: .*expected number/),
      expect.stringMatching(/^admin\.port: .*65535/),
      'relay.host: must be an IPv4 address literal',
    ]),
  );
  expect(problemsOf('listeners: [{protocol: quic, port: 1}]\nauth: {usersFile: /u}\n')[0]).toMatch(
    /^listeners\[0\]\.protocol: /,
  );
  expect(problemsOf(`${minimal}\npeers: {allowCIDRs: [10.0.0.0/8, 10.0.0.0/40]}\n`)).toEqual([
    'peers.allowCIDRs[1]: invalid CIDR "10.0.0.0/40": IPv4 prefix length must be 0-32',
  ]);
  expect(problemsOf(`${minimal}\nlimits: {defaultLifetimeSeconds: 7200}\n`)).toEqual([
    'limits.defaultLifetimeSeconds: must be <= limits.maxLifetimeSeconds (3600)',
  ]);
});

test('relay.coalesceMicros takes 0 to 10000 whole microseconds', () => {
  for (const bad of ['10001', '-1', '2.5'])
    expect(problemsOf(`${minimal}\nrelay: {coalesceMicros: ${bad}}\n`)).toEqual([
      expect.stringMatching(/^relay\.coalesceMicros: /),
    ]);
  expect(parseRelayConfig(`${minimal}\nrelay: {coalesceMicros: 0}\n`, 'relay.yaml').relay.coalesceMicros).toBe(0);
  expect(parseRelayConfig(minimal, 'relay.yaml').relay.coalesceMicros).toBeUndefined();
});

test('a reload names the changed fields it cannot apply (the data plane, its threads and pause) and only those', () => {
  const config = (relay: string) => parseRelayConfig(`${minimal}\nrelay: ${relay}\n`, 'relay.yaml');
  const base = config('{threads: 2}');
  expect(restartOnlyChanges(base, config('{threads: 2, coalesceMicros: 0}'))).toEqual(['relay.coalesceMicros']);
  expect(restartOnlyChanges(base, config('{threads: 4, dataPlane: node}'))).toEqual([
    'relay.dataPlane',
    'relay.threads',
  ]);
  expect(restartOnlyChanges(base, config('{threads: 2, portRange: {min: 50000, max: 50100}}'))).toEqual([]);
});

test('on a JavaScript-plane relay a reload calls the native-only settings unused, unless the data plane changes too', () => {
  const config = (relay: string) => parseRelayConfig(`${minimal}\nrelay: ${relay}\n`, 'relay.yaml');
  const base = config('{threads: 2}');
  const tuned = config('{threads: 4, coalesceMicros: 0}');
  expect(unappliedChanges(base, tuned, 'node')).toEqual([
    { field: 'relay.threads', effect: 'unused' },
    { field: 'relay.coalesceMicros', effect: 'unused' },
  ]);
  expect(unappliedChanges(base, tuned, 'native')).toEqual([
    { field: 'relay.threads', effect: 'restart' },
    { field: 'relay.coalesceMicros', effect: 'restart' },
  ]);
  expect(unappliedChanges(base, config('{threads: 4, dataPlane: native}'), 'node')).toEqual([
    { field: 'relay.dataPlane', effect: 'restart' },
    { field: 'relay.threads', effect: 'restart' },
  ]);
  const moved = parseRelayConfig(`${minimal.replace('port: 3478', 'port: 3479')}\nrelay: {threads: 2}\n`, 'relay.yaml');
  expect(unappliedChanges(base, moved, 'node')).toEqual([{ field: 'listeners', effect: 'restart' }]);
  expect(unappliedChanges(base, config('{threads: 2}'), 'node')).toEqual([]);
});

test('cross-field rules', () => {
  expect(problemsOf('listeners: [{protocol: tls, port: 5349}]\nauth: {usersFile: /u}\n')).toEqual([
    'tls: required because a listener has protocol tls (set certFile and keyFile)',
  ]);
  expect(problemsOf(`${minimal}\ntls: {certFile: /c, keyFile: /k}\n`)).toEqual([
    'tls: set, but no listener has protocol tls (remove it or add a tls listener)',
  ]);
  expect(problemsOf('listeners: [{protocol: udp, port: 3478}]\n')).toEqual([
    'auth: at least one of secretsFile or usersFile is required (the relay never runs unauthenticated)',
  ]);
  expect(problemsOf(`${minimal}\nrelay: {portRange: {min: 50000, max: 40000}}\n`)).toEqual([
    'relay.portRange: min (50000) must be <= max (40000)',
  ]);
  expect(
    problemsOf(
      'listeners: [{protocol: tcp, port: 3478}, {protocol: tls, port: 3478}]\ntls: {certFile: /c, keyFile: /k}\nauth: {usersFile: /u}\n',
    ),
  ).toEqual(['listeners[1]: tls 0.0.0.0:3478 clashes with listeners[0] (same host, port and transport)']);
  // udp and tcp share a port number legitimately; port 0 never clashes; different hosts do not clash.
  expect(() =>
    parseRelayConfig(
      'listeners: [{protocol: udp, port: 3478}, {protocol: tcp, port: 3478}, {protocol: tcp, port: 0}, {protocol: tcp, port: 0}, {protocol: tcp, host: 127.0.0.1, port: 3478}]\nauth: {usersFile: /u}\n',
      'x',
    ),
  ).not.toThrow();
  expect(problemsOf('listeners: []\nauth: {usersFile: /u}\n')).toEqual([
    'listeners: at least one listener is required',
  ]);
});

test('syntax errors, duplicate keys and empty files are ConfigErrors', () => {
  expect(problemsOf('listeners: [\n')[0]).toMatch(/^syntax: /);
  expect(problemsOf('realm: a\nrealm: b\n')[0]).toMatch(/^syntax: .*[Mm]ap keys must be unique/);
  expect(problemsOf('')).toEqual(['(root): the file is empty']);
  expect(problemsOf('- 1\n- 2\n')[0]).toMatch(/^\(root\): .*expected object/);
});

test('loadRelayConfigFile reads a file and names it in errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'turnrelay-cfg-'));
  const good = join(dir, 'good.yaml');
  await writeFile(good, minimal);
  expect((await loadRelayConfigFile(good)).listeners).toHaveLength(1);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, `${minimal}\nrealm: 5\n`);
  await expect(loadRelayConfigFile(bad)).rejects.toThrow(`invalid relay config ${bad}:\n  realm: `);
  await expect(loadRelayConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(
    /missing\.yaml:\n {2}cannot read the file \(ENOENT\)/,
  );
});

test('any input either parses or fails with a ConfigError, never anything else', () => {
  const keys = [
    'realm',
    'listeners',
    'tls',
    'auth',
    'relay',
    'peers',
    'limits',
    'admin',
    'drain',
    'log',
    'protocol',
    'port',
    'host',
    'min',
    'max',
    'secretsFile',
  ];
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...keys), tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        value.map((v) => JSON.stringify(v)),
        value.map((v) => stringify(v)),
      ),
      (text) => {
        try {
          parseRelayConfig(text, 'fuzz.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).problems.length).toBeGreaterThan(0);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('YAML alias tricks are ConfigErrors', () => {
  expect(problemsOf('realm: *nope\n')[0]).toMatch(/^syntax: /);
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++)
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(', ')}]`,
    );
  expect(problemsOf(`${bomb.join('\n')}\n`)[0]).toMatch(/^syntax: .*alias/i);
});
