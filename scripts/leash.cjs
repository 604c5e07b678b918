#!/usr/bin/env node
/**
 * Keeps a server process on a leash: runs `command args…` and stops it (SIGTERM, then SIGKILL)
 * as soon as this process's stdin closes — which happens when whoever started us exits, however
 * it exits (even SIGKILL). After the server has exited, removes the scratch folder given as the
 * first argument. This is how tests and `dedl-harvest dev` leave no orphan server or temp dir.
 *
 * Usage: node leash.cjs <scratch-dir | -> -- <command> [args…]
 */
'use strict';
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');

const [scratch, separator, command, ...args] = process.argv.slice(2);
if (separator !== '--' || !command) {
  process.stderr.write('usage: leash.cjs <scratch-dir|-> -- <command> [args…]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  // A server that ignores SIGTERM for 10 s is killed; unref so this timer never keeps us alive.
  setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
}

child.on('error', (err) => {
  process.stderr.write(`leash: cannot start ${command}: ${err.message}\n`);
  cleanup();
  process.exit(127);
});
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (signal ? 1 : 0));
});

function cleanup() {
  if (scratch && scratch !== '-') rmSync(scratch, { recursive: true, force: true });
}

process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
