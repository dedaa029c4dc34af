// Copies non-TypeScript assets (Avro schemas) next to the compiled code in dist/.
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
cpSync(join(root, 'libs/contracts/src/schemas'), join(root, 'dist/libs/contracts/src/schemas'), { recursive: true });
