/** Two projects: fast unit tests beside the code, integration tests that need the local stack. */
const moduleNameMapper = {
  '^@rag/([a-z-]+)$': '<rootDir>/libs/$1/src',
  // One module of a lib, not its barrel (parse workers load only what their work needs).
  '^@rag/([a-z-]+)/([a-z0-9/-]+)$': '<rootDir>/libs/$1/src/$2',
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
