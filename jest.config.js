/** Two projects: fast unit tests beside the code, integration tests that need the local stack. */
const moduleNameMapper = {
  '^@rag/([a-z-]+)$': '<rootDir>/libs/$1/src',
};
const transform = { '^.+\\.ts$': 'ts-jest' };
const base = { testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform };

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{libs,services,tools,bench}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-integration-setup.ts'],
      slowTestThreshold: 60,
    },
  ],
};
