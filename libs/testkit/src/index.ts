// The harness shared by the integration tests and the benchmark: where the local stack is, the
// services as child processes, a generated corpus, and an OpenAI-API test server.
export * from './env';
export * from './services';
export * from './corpus';
export * from './fake-openai-server';
export * from './document-fixtures';
export * from './metrics';
