// Jest reads `testTimeout` only from the root config, not from a project, so the integration
// project sets its (long) default timeout here instead.
jest.setTimeout(180_000);
