/** `dedl-harvest redeliver <workflowId>`: deliver again what a harvest's Hook order made but the sink did not take. */
import { type Command, stringFlag } from '../command';
import { connectClient } from '../connect';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { line, printJson, stopSignal } from '../io';
import { finishedReport, originalRequest, planRedelivery } from '../redelivery';
import { sinkToUrl } from '../request-input';
import { startHarvest, taskQueueFor } from '../start-harvest';
import { TASK_QUEUE_FLAG } from './request-flags';
import { followToEnd } from './run';

export const redeliverCommand: Command = {
  name: 'redeliver',
  usage: 'redeliver <workflowId> [--sink <dir|url>]',
  summary: "deliver a finished harvest's undelivered items again, without ordering them again",
  details:
    'Items the Hook made but the sink could not take are reported "undelivered". Their download links\n' +
    'live 14 days: within that time this starts a delivery-only harvest of them (same checks, manifest),\n' +
    'into the original sink or --sink. Nothing is ordered.',
  flags: {
    sink: { type: 'string', value: '<dir|url>', description: 'deliver here instead of the original sink' },
    'sink-credentials': { type: 'string', value: '<name>', description: 'credential set of an s3:// --sink' },
    id: { type: 'string', value: '<workflowId>', description: 'workflow id (default <workflowId>-redeliver-<time>)' },
    'task-queue': TASK_QUEUE_FLAG,
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const workflowId = ctx.positionals[0]!;
    const sinkFlag = stringFlag(ctx.flags, 'sink');
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    const stop = stopSignal(ctx.io);
    try {
      const handle = temporal.client.workflow.getHandle(workflowId);
      const description = await handle.describe();
      if (description.status.name === 'RUNNING') {
        throw new CliError(`harvest ${workflowId} is still running; redeliver it once it has ended`);
      }
      const report = await finishedReport(handle);
      const plan = planRedelivery(await originalRequest(temporal.client, handle), report, {
        sink: sinkFlag ? sinkToUrl(sinkFlag, ctx.io.cwd) : undefined,
        sinkCredentials: stringFlag(ctx.flags, 'sink-credentials'),
        now: Date.now(),
      });
      for (const item of plan.expired) {
        line(
          ctx.io.stderr,
          `${item.identifier}: its download link expired (14 days after ${item.completedAt}); order it again`,
        );
      }
      if (!plan.request) {
        const why =
          plan.expired.length > 0
            ? 'every undelivered item is past its link expiry'
            : `harvest ${workflowId} has no undelivered TEMPORARY item`;
        if (ctx.json)
          printJson(ctx.io.stdout, { workflowId, redelivered: 0, expired: plan.expired.map((i) => i.identifier) });
        else line(ctx.io.stdout, `Nothing to redeliver: ${why}.`);
        return plan.expired.length > 0 ? EXIT.ERROR : EXIT.OK;
      }
      const started = await startHarvest(temporal.client, plan.request, {
        workflowId: stringFlag(ctx.flags, 'id') ?? `${workflowId}-redeliver-${Date.now()}`,
        taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
      });
      if (!ctx.json) {
        line(
          ctx.io.stdout,
          `Redelivering ${plan.redeliver.length} item(s) of ${workflowId} (Hook order ${report.orderId}) as workflow ${started.workflowId}`,
        );
      }
      return await followToEnd(ctx, temporal.client, started.workflowId, stop.signal);
    } finally {
      stop.dispose();
      await temporal.close();
    }
  },
};
