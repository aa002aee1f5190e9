/** Unit, synth and integration tests. The host replica (`npm run e2e`) has its own config. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdktf.out/', '\\.e2e\\.test\\.ts$'],
  testTimeout: 30000,
};
