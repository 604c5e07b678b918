/**
 * A typed client API for campaigns over `@temporalio/client`: start (idempotent by name), plan
 * (dry run), progress, pause/resume, change concurrency, retry the failed products, cancel, report;
 * and the account limiter's status and limits. Used by the CLI and usable from any program.
 */
import { randomUUID } from 'node:crypto';
import {
  type Client,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import {
  type AccountLimits,
  type AccountStatus,
  accountLimiterId,
  accountStatusQuery,
  setAccountLimitsUpdate,
} from '../shared/account-limiter';
import {
  CAMPAIGN_PLAN_WORKFLOW,
  CAMPAIGN_WORKFLOW,
  type ConcurrencyChange,
  campaignProgressQuery,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryFailedUpdate,
  setConcurrencyUpdate,
} from '../shared/campaign-messages';
import type { CampaignPlan, CampaignProgress, CampaignReport } from '../shared/campaign-report';
import { type CampaignRequestInput, parseCampaignRequest } from '../shared/campaign-request';
import { TASK_QUEUE } from '../shared/constants';
import { CAMPAIGN_FINISHING } from '../shared/failures';
import { HarvestCampaign } from '../shared/search-attributes';
import { decodePayloads } from './payloads';
import type { harvestCampaign } from '../workflows/campaign';

export type CampaignHandle = WorkflowHandle<typeof harvestCampaign>;

/** A campaign request refused before anything was started; `problems` name their fields. */
export class CampaignRequestError extends Error {
  override readonly name = 'CampaignRequestError';
  constructor(readonly problems: string[]) {
    super(`the campaign request was refused: ${problems.join('; ')}`);
  }
}

export interface CampaignStartOptions {
  /** Default `campaign/<name as a slug>`, so starting the same campaign twice finds the running one. */
  workflowId?: string;
  /** Default `dedl-harvest`. */
  taskQueue?: string;
}

/** `campaign/<slug of the name>`: lower-case, spaces and other separators as dashes. */
export function campaignWorkflowId(name: string): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `campaign/${slug || 'unnamed'}`;
}

function checked(input: CampaignRequestInput): CampaignRequestInput {
  const parsed = parseCampaignRequest(input);
  if (!parsed.ok) throw new CampaignRequestError(parsed.problems);
  return input;
}

/**
 * Starts a campaign; when one with the same workflow id is running, returns it instead (a second
 * `start` never doubles a campaign). A finished one with that id is started again: the ledger
 * makes it order only what is not verified yet.
 */
export async function startCampaign(
  client: Client,
  input: CampaignRequestInput,
  options: CampaignStartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof harvestCampaign>> {
  const request = checked(input);
  return client.workflow.start<typeof harvestCampaign>(CAMPAIGN_WORKFLOW, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: options.workflowId ?? campaignWorkflowId(request.name),
    args: [request],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: HarvestCampaign, value: request.name }],
  });
}

/** The dry run: products found, already verified, orders needed against the monthly budget. Orders nothing. */
export async function planCampaign(
  client: Client,
  input: CampaignRequestInput,
  options: Pick<CampaignStartOptions, 'taskQueue'> = {},
): Promise<CampaignPlan> {
  const request = checked(input);
  return client.workflow.execute<(i: CampaignRequestInput) => Promise<CampaignPlan>>(CAMPAIGN_PLAN_WORKFLOW, {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: `${campaignWorkflowId(request.name)}/plan-${randomUUID().slice(0, 8)}`,
    args: [request],
  });
}

export function campaignHandle(client: Client, workflowId: string): CampaignHandle {
  return client.workflow.getHandle<typeof harvestCampaign>(workflowId);
}

export async function campaignProgress(client: Client, workflowId: string): Promise<CampaignProgress> {
  return campaignHandle(client, workflowId).query(campaignProgressQuery);
}

/** Holds new orders (those under way finish); returns the progress once the campaign has taken it in. */
export async function pauseCampaign(client: Client, workflowId: string): Promise<CampaignProgress> {
  return campaignHandle(client, workflowId).executeUpdate(pauseCampaignUpdate);
}

export async function resumeCampaign(client: Client, workflowId: string): Promise<CampaignProgress> {
  return campaignHandle(client, workflowId).executeUpdate(resumeCampaignUpdate);
}

export async function setCampaignConcurrency(
  client: Client,
  workflowId: string,
  change: ConcurrencyChange,
): Promise<CampaignProgress> {
  return campaignHandle(client, workflowId).executeUpdate(setConcurrencyUpdate, { args: [change] });
}

export interface RetryFailedResult {
  /** The products ordered again. */
  requeued: string[];
  /** `requeued` by the running campaign, or `restarted`: the campaign had ended and runs again for them. */
  how: 'requeued' | 'restarted' | 'nothing-failed';
  handle: CampaignHandle;
}

/**
 * Orders the failed products again. A running campaign puts them back in its queue; a finished one
 * is started again, with the same workflow id, for exactly its failed products.
 */
export async function retryFailedProducts(
  client: Client,
  workflowId: string,
  options: { includeTimedOut?: boolean; request?: CampaignRequestInput; taskQueue?: string } = {},
): Promise<RetryFailedResult> {
  const handle = campaignHandle(client, workflowId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') {
    try {
      const { requeued } = await handle.executeUpdate(retryFailedUpdate, {
        args: [{ includeTimedOut: options.includeTimedOut }],
      });
      return { requeued, how: requeued.length > 0 ? 'requeued' : 'nothing-failed', handle };
    } catch (err) {
      if (!endedMeanwhile(err)) throw err;
      // Its last product settled meanwhile: once it has ended (however), it is retried as a finished campaign.
      await handle.result().catch(() => undefined);
    }
  }
  const report = await campaignReport(client, workflowId);
  const retry = new Set(['failed', ...(options.includeTimedOut ? ['timed_out'] : [])]);
  // A large campaign's result lists only the products not delivered: exactly what is needed here.
  const requeued = (report.items ?? []).filter((item) => retry.has(item.state)).map((item) => item.identifier);
  if (requeued.length === 0) return { requeued, how: 'nothing-failed', handle };
  const original = options.request ?? (await latestRequest(client, workflowId));
  const { query: _query, identifiers: _identifiers, ...rest } = original;
  const again = await client.workflow.start<typeof harvestCampaign>(CAMPAIGN_WORKFLOW, {
    taskQueue: options.taskQueue ?? description.taskQueue,
    workflowId,
    args: [checked({ ...rest, identifiers: requeued })],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: HarvestCampaign, value: original.name }],
  });
  return { requeued, how: 'restarted', handle: again };
}

/** An update that found the campaign finishing (writing its records after its last product) or ended. */
function endedMeanwhile(err: unknown): boolean {
  const finishing =
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === CAMPAIGN_FINISHING;
  return finishing || err instanceof WorkflowNotFoundError;
}

/** Cancels the campaign: its orders are cancelled at the Hook; returns once it has ended. */
export async function cancelCampaign(client: Client, workflowId: string): Promise<WorkflowExecutionStatusName> {
  const handle = campaignHandle(client, workflowId);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  return (await handle.describe()).status.name;
}

/** The report of a finished campaign (waits for a running one). Cancelled campaigns have no report: see their manifest. */
export async function campaignReport(client: Client, workflowId: string): Promise<CampaignReport> {
  return campaignHandle(client, workflowId).result();
}

/**
 * The request of the campaign's latest run (its first argument): the original request, except
 * that runs after a continue-as-new carry no `identifiers` (they are in the carried state).
 */
async function latestRequest(client: Client, workflowId: string): Promise<CampaignRequestInput> {
  const history = await campaignHandle(client, workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = await decodePayloads(client, started?.input?.payloads);
  if (!input) throw new Error(`cannot read the request of campaign ${workflowId}`);
  return input as CampaignRequestInput;
}

/** The account limiter's status, or undefined when no campaign has used the account yet. */
export async function accountStatus(client: Client, account: string): Promise<AccountStatus | undefined> {
  try {
    return await client.workflow.getHandle(accountLimiterId(account)).query(accountStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Changes the account's limits for every campaign of the account (the limiter must exist). */
export async function setAccountLimits(
  client: Client,
  account: string,
  limits: Partial<AccountLimits>,
): Promise<AccountStatus> {
  return client.workflow.getHandle(accountLimiterId(account)).executeUpdate(setAccountLimitsUpdate, { args: [limits] });
}
