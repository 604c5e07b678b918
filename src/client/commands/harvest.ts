/** `dedl-harvest harvest plan <request.json>`: the dry run of a harvest (what `run --dry-run` prints). */
import { type Command, type CommandContext, stringFlag } from '../command';
import { connectClient } from '../connect';
import { UsageError } from '../errors';
import { planHarvestRequest, presentPlan, refusedPlan } from '../harvest-plan';
import { ITEM_TIME_FLAG, itemTimeMs } from '../plan-output';
import { taskQueueFor } from '../start-harvest';
import { REQUEST_FLAGS, requestFromContext } from './request-flags';

export const harvestCommand: Command = {
  name: 'harvest',
  usage: 'harvest plan <request.json> | harvest plan --from-env <.env_tutorial>',
  summary: 'plan a harvest: products, held already, size, the order against the account quota; orders nothing',
  flags: { ...REQUEST_FLAGS, 'item-time': ITEM_TIME_FLAG },
  positionals: { min: 1, max: 2 },
  async run(ctx) {
    const [sub, ...rest] = ctx.positionals;
    if (sub !== 'plan') throw new UsageError(`unknown harvest command "${sub}"; see dedl-harvest harvest --help`);
    return planFromContext({ ...ctx, positionals: rest });
  },
};

/** Plans the request of `run`/`start` (with `--dry-run`) or `harvest plan`, and prints the plan. */
export async function planFromContext(ctx: CommandContext): Promise<number> {
  const itemMs = itemTimeMs(stringFlag(ctx.flags, 'item-time'));
  const { input } = await requestFromContext(ctx);
  const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
  try {
    const plan = await planHarvestRequest(temporal.client, input, {
      taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
    }).catch(refusedPlan('the harvest request'));
    return presentPlan(ctx, plan, itemMs);
  } finally {
    await temporal.close();
  }
}
