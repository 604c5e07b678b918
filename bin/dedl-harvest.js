#!/usr/bin/env node
// The `dedl-harvest` command: runs the compiled CLI (`npm run build` / `prepare` writes dist/).
require('../dist/client/cli.js').main();
