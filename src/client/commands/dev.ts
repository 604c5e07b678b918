/**
 * `dedl-harvest dev`: the whole local setup — Temporal dev server with UI (or, with `--cluster`,
 * a Temporal cluster on PostgreSQL), versitygw, the Hook emulator and a worker — up until Ctrl-C, with the environment and commands to use it from
 * another shell (the README's Temporal CLI commands work as written once it is exported).
 */
import type { Command } from '../command';
import { line, printJson, stopSignal } from '../io';
import { LOCAL_CREDENTIALS, projectPath, selfCommand, startLocalHarvestEnv, temporalCommand } from '../local-env';

export const DEV_BUCKET = 'dedl-harvest';

export const devCommand: Command = {
  name: 'dev',
  usage: 'dev [--cluster]',
  summary: 'start the local stack (Temporal + UI, S3, Hook emulator, worker) until Ctrl-C; print how to use it',
  details:
    'The emulator writes PRIVATE outputs addressed to https://s3.central.data.destination-earth.eu into the\n' +
    `local S3 (bucket "${DEV_BUCKET}", credential set "${LOCAL_CREDENTIALS}"), so examples/harvest-private.json works as written.`,
  flags: {
    cluster: {
      type: 'boolean',
      description:
        'run Temporal as a cluster on PostgreSQL (frontend, history, matching, worker processes), as in production',
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const out = (text = '') => line(ctx.io.stdout, text);
    const log = (text: string) => line(ctx.io.stderr, text);
    if (!ctx.json) out('Starting the local stack (first run: building the tools takes a few minutes)…');
    // Listening before the worker exists: a Ctrl-C during start-up then stops everything, not just the worker.
    const stop = stopSignal(ctx.io);
    const local = await startLocalHarvestEnv({
      emulator: { timing: { queuedMs: 1_000, processingMs: 3_000 }, productSize: 4 * 1024 * 1024 },
      bucket: DEV_BUCKET,
      log,
      logLevel: ctx.io.env.LOG_LEVEL ?? 'WARN',
      cluster: ctx.flags.cluster === true,
    }).catch((err: unknown) => {
      stop.dispose();
      throw err;
    });
    try {
      const { stack, emulator } = local;
      const temporal = temporalCommand(local.temporalBinary, ctx.io.env);
      const self = selfCommand(ctx.io.cwd);
      const commands = [
        `${temporal} workflow start --task-queue ${local.taskQueue} --type harvest --input-file ${projectPath(ctx.io.cwd, 'examples/harvest-temporary.json')} --workflow-id example-temporary`,
        `${temporal} workflow result --workflow-id example-temporary`,
        `${self} run ${projectPath(ctx.io.cwd, 'examples/harvest-private.json')}`,
        `${self} workflows data-harvest`,
      ];
      if (ctx.json) {
        printJson(ctx.io.stdout, {
          temporal: {
            address: stack.temporal.address,
            namespace: stack.temporal.namespace,
            uiUrl: stack.temporal.uiUrl,
          },
          emulator: { url: emulator.url, adminUrl: emulator.adminUrl, account: { username: 'demo', password: 'demo' } },
          s3: { endpoint: stack.s3.endpoint, bucket: local.bucket, dataDir: stack.s3.dataDir },
          taskQueue: local.taskQueue,
          env: local.env,
          commands,
        });
      } else {
        out('Local stack is up; Ctrl-C stops everything.');
        out(
          `  Temporal       ${stack.temporal.address} (namespace ${stack.temporal.namespace}; ${stack.temporal.kind === 'cluster' ? 'cluster on PostgreSQL' : 'dev server'})`,
        );
        out(`  Temporal UI    ${stack.temporal.uiUrl ?? '(headless)'}`);
        out(`  Hook emulator  ${emulator.url} (account demo / demo; stats ${emulator.adminUrl}/stats)`);
        out(`  S3 (versitygw) ${stack.s3.endpoint}, bucket ${local.bucket} (files under ${stack.s3.dataDir})`);
        out(`  Worker         task queue ${local.taskQueue}, credential sets desp, ${LOCAL_CREDENTIALS}`);
        out();
        out('Environment for another shell (or put these lines in .env):');
        for (const [key, value] of Object.entries(local.env)) out(`  export ${key}=${value}`);
        out();
        out('Then try:');
        for (const command of commands) out(`  ${command}`);
      }
      if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
      if (!ctx.json) out('Stopping…');
      return 0;
    } finally {
      stop.dispose();
      await local.close();
    }
  },
};
