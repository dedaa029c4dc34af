export * from './isolated-worker-pool';
export * from './serve-isolated-tasks';
