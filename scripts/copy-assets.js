// Copies non-TypeScript assets (Avro schemas, the web console) next to the compiled code in dist/, and stamps the
// build (scripts/ensure-built.sh rebuilds when a source is newer than the stamp).
const { cpSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
cpSync(join(root, 'libs/contracts/src/schemas'), join(root, 'dist/libs/contracts/src/schemas'), { recursive: true });
// The web console: static files, served by the gateway.
cpSync(join(root, 'services/gateway/console'), join(root, 'dist/services/gateway/console'), { recursive: true });
writeFileSync(join(root, 'dist/.build-stamp'), `${new Date().toISOString()}\n`);
