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

// LEASH_UID/LEASH_GID run the server as another user (PostgreSQL refuses to run as root), still
// as our direct child so that it gets our signals; LEASH_STOP_SIGNAL is its "stop now" (SIGINT is
// PostgreSQL's fast shutdown; its SIGTERM waits for every client to leave).
const ids = {};
if (process.env.LEASH_UID) ids.uid = Number(process.env.LEASH_UID);
if (process.env.LEASH_GID) ids.gid = Number(process.env.LEASH_GID);
const stopSignal = process.env.LEASH_STOP_SIGNAL || 'SIGTERM';
const env = { ...process.env };
for (const name of ['LEASH_UID', 'LEASH_GID', 'LEASH_STOP_SIGNAL']) delete env[name];

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env, ...ids });
let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  child.kill(stopSignal);
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
  if (!scratch || scratch === '-') return;
  // Retried: a server of another leash may still be writing into the folder for a moment.
  try {
    rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (err) {
    process.stderr.write(`leash: could not remove ${scratch}: ${err.message}\n`);
  }
}

process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
