// Test-only worker for isolated-worker-pool.spec.ts: fails while loading, as a broken build would.
throw new Error('cannot load the parser');
