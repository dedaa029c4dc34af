#!/usr/bin/env node
// The package's `rag-stream` bin. It builds first when dist/ is missing or older than the sources
// (scripts/ensure-built.sh, progress on stderr), so `npx rag-stream` works on a fresh clone, then
// runs the compiled CLI.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const ensureBuilt = join(root, 'scripts', 'ensure-built.sh');
if (existsSync(ensureBuilt)) {
  const built = spawnSync('bash', [ensureBuilt], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
require(join(root, 'dist', 'tools', 'cli', 'main.js'));
