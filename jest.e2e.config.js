/**
 * The local replica (`npm run e2e`): the real host scripts, nginx, certbot +
 * pebble, PM2 and the authorization server, as root. Slow and stateful, so it
 * runs alone (--runInBand) and only these files.
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // dist/ holds built copies (the host bundle's package.json among them): never modules of the tests.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // jose is ES modules only (testing/jest/jose.js says how the tests load it).
  moduleNameMapper: { '^jose$': '<rootDir>/testing/jest/jose.js' },
  testTimeout: 300000,
};
