#!/usr/bin/env node
// The `dedl-harvest` command: runs the compiled CLI (`npm run build` / `prepare` writes dist/).
// On a Node older than the supported lines it says so at once, instead of failing deep inside a
// dependency (undici 8 cannot even be loaded on Node 20).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `dedl-harvest needs Node 24 or 22.19+ (this is ${process.version}). ` +
      'From the project folder, `node scripts/with-node.cjs 24 node bin/dedl-harvest.js …` runs it on Node 24.\n',
  );
  process.exit(1);
}
require('../dist/client/cli.js').main();
