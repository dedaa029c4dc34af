// Test-only worker for isolated-worker-pool.spec.ts. ts-jest does not reach into worker threads,
// so the TypeScript worker side is loaded through the TypeScript compiler here.
const { readFileSync } = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 };
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions }).outputText, filename);
};
const { serveIsolatedTasks } = require('./serve-isolated-tasks.ts');

serveIsolatedTasks((task) => {
  switch (task.kind) {
    case 'echo':
      return { echoed: task.value, bytes: task.bytes ? new Uint8Array(task.bytes).length : 0 };
    case 'loop':
      for (;;);
    case 'allocate': {
      const kept = [];
      for (;;) kept.push(new Array(100_000).fill(kept.length));
    }
    case 'recurse': {
      const deeper = (n) => deeper(n + 1) + 1;
      return deeper(0);
    }
    case 'throw-transient':
      throw Object.assign(new Error('dependency down'), { kind: 'transient' });
    case 'throw':
      throw new Error('bad content');
    case 'exit':
      process.exit(3);
  }
  throw new Error(`unknown task ${task.kind}`);
});
