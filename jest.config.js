/** Unit, synth and integration tests. The host replica (`npm run e2e`) has its own config. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdktf.out/', '\\.e2e\\.test\\.ts$'],
  // dist/ holds built copies (the host bundle's package.json among them): never modules of the tests.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // jose is ES modules only (testing/jest/jose.js says how the tests load it).
  moduleNameMapper: { '^jose$': '<rootDir>/testing/jest/jose.js' },
  testTimeout: 30000,
};
