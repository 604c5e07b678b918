/** Flags shared by `run` and `start`: where the request comes from, and where the harvest runs. */
import { type CommandContext, type FlagSpec, stringFlag } from '../command';
import { UsageError } from '../errors';
import { line } from '../io';
import { ITEM_TIME_FLAG } from '../plan-output';
import { type LoadedRequest, loadRequest } from '../request-input';

/** `--task-queue`, of every command that starts or redelivers work. */
export const TASK_QUEUE_FLAG: FlagSpec = {
  type: 'string',
  value: '<queue>',
  description: 'task queue of the workers (default $DEDL_TASK_QUEUE or dedl-harvest)',
};

export const REQUEST_FLAGS: Record<string, FlagSpec> = {
  'from-env': {
    type: 'string',
    value: '<file>',
    description: "build the request from the Hook tutorial's HOOK_* variables in <file> (e.g. .env_tutorial)",
  },
  sink: {
    type: 'string',
    value: '<dir|url>',
    description: 'with --from-env: where TEMPORARY products go (default ./harvest-output)',
  },
  credentials: {
    type: 'string',
    value: '<name>',
    description: 'with --from-env: credential set of the PRIVATE bucket on the worker (default islet)',
  },
  'source-credentials': {
    type: 'string',
    value: '<name>',
    description: 'with --from-env: credential set of an EXTERNAL source on the worker (default external)',
  },
  id: { type: 'string', value: '<workflowId>', description: 'workflow id (default harvest-<name>-<random>)' },
  'task-queue': TASK_QUEUE_FLAG,
};

/** `run`/`start --dry-run`: print the plan (what `harvest plan` prints) instead of starting. */
export const DRY_RUN_FLAGS: Record<string, FlagSpec> = {
  'dry-run': { type: 'boolean', description: 'print the plan (products, size, quota) and order nothing' },
  'item-time': ITEM_TIME_FLAG,
};

/** Reads and validates the request of `run`/`start`; prints what the user should know about it. */
export async function requestFromContext(ctx: CommandContext): Promise<LoadedRequest> {
  const file = ctx.positionals[0];
  const fromEnv = stringFlag(ctx.flags, 'from-env');
  if (file && fromEnv) throw new UsageError('give either a request file or --from-env, not both');
  if (!file && !fromEnv) throw new UsageError('missing the request: a JSON file, or --from-env <file>');
  if (!fromEnv) {
    for (const flag of ['sink', 'credentials', 'source-credentials']) {
      if (ctx.flags[flag] !== undefined) throw new UsageError(`--${flag} goes with --from-env`);
    }
  }
  const loaded = await loadRequest(
    {
      file,
      fromEnv,
      sink: stringFlag(ctx.flags, 'sink'),
      outputCredentials: stringFlag(ctx.flags, 'credentials'),
      sourceCredentials: stringFlag(ctx.flags, 'source-credentials'),
    },
    ctx.io.cwd,
  );
  for (const note of loaded.notes) line(ctx.io.stderr, `note: ${note}`);
  return loaded;
}
