// Four projects share one `npm test` run: pure unit tests, relay interop tests
// against real TURN clients, operator integration tests against a real
// kube-apiserver (started once by the k8s project's global setup), and
// end-to-end tests on real pods (a cluster with a kubelet node, started once
// by the pods project's global setup).
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }] },
  testEnvironment: 'node',
  // Build output and caches (the image store holds copies of package.json)
  // are no modules of ours: keep them out of Jest's module map.
  modulePathIgnorePatterns: ['<rootDir>/.cache/', '<rootDir>/dist/', '<rootDir>/build/'],
};

export default {
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'interop', testMatch: ['<rootDir>/test/interop/**/*.test.ts'] },
    {
      ...common,
      displayName: 'k8s',
      testMatch: ['<rootDir>/test/k8s/**/*.test.ts'],
      globalSetup: '<rootDir>/test/k8s/global-setup.ts',
      globalTeardown: '<rootDir>/test/k8s/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'pods',
      testMatch: ['<rootDir>/test/pods/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/pods/env.ts'],
      globalSetup: '<rootDir>/test/pods/global-setup.ts',
      globalTeardown: '<rootDir>/test/pods/global-teardown.ts',
    },
  ],
};
