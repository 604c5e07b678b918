/**
 * The dry run of a harvest (`harvest plan`, `run|start --dry-run`) over the client API, and the
 * printing of any plan. The worker plans (it holds the credentials the catalogue and the ledger
 * need); nothing is ordered.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { HARVEST_PLAN_WORKFLOW } from '../shared/campaign-messages';
import type { CampaignPlan } from '../shared/campaign-report';
import { TASK_QUEUE } from '../shared/constants';
import { type HarvestRequestInput, parseHarvestRequest } from '../shared/harvest-request';
import type { CommandContext } from './command';
import { InvalidInputError, InvalidRequestError } from './errors';
import { EXIT } from './exit-codes';
import { findInvalidRequest } from './harvest-end';
import { line, printJson } from './io';
import { formatPlan, planOutput } from './plan-output';
import { defaultWorkflowId } from './start-harvest';

/** Products found, held in the ledger, their size, the order against the account's budget. Orders nothing. */
export async function planHarvestRequest(
  client: Client,
  input: HarvestRequestInput,
  options: { taskQueue?: string } = {},
): Promise<CampaignPlan> {
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw new InvalidRequestError(parsed.problems);
  return client.workflow.execute<(i: HarvestRequestInput) => Promise<CampaignPlan>>(HARVEST_PLAN_WORKFLOW, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: `${defaultWorkflowId(input.name)}/plan-${randomBytes(4).toString('hex')}`,
    args: [input],
  });
}

/** The worker's refusal (Hook workflow options, credential sets) as exit 2, like a harvest's. */
export function refusedPlan(what: string): (err: unknown) => never {
  return (err) => {
    const problems = findInvalidRequest(err);
    if (problems) throw new InvalidInputError(`the worker refused ${what}; nothing was ordered`, problems);
    throw err;
  };
}

/** Prints a plan with its estimate, as text or (`--json`) as the validated document. */
export function presentPlan(ctx: CommandContext, plan: CampaignPlan, itemMs: number): number {
  const output = planOutput(plan, itemMs);
  if (ctx.json) printJson(ctx.io.stdout, output);
  else for (const text of formatPlan(output)) line(ctx.io.stdout, text);
  return EXIT.OK;
}
