/**
 * Starting a `harvest` workflow: its id (`--id`, or `harvest-<name>-<random>`), its task queue
 * (`--task-queue`, `DEDL_TASK_QUEUE`, or `dedl-harvest`), and a readable error for an id in use.
 */
import { randomBytes } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { TASK_QUEUE, WORKFLOW_TYPES } from '../shared/constants';
import { type HarvestRequestInput, parseHarvestRequest } from '../shared/harvest-request';
import { CliError, InvalidRequestError } from './errors';

/** `harvest-s2-alps-2023-09-3f9a1c`: readable in the UI, unique enough to start the same request again. */
export function defaultWorkflowId(name: string, random: () => string = () => randomBytes(3).toString('hex')): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48);
  return `harvest-${slug || 'request'}-${random()}`;
}

export function taskQueueFor(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag || env.DEDL_TASK_QUEUE || TASK_QUEUE;
}

export interface StartedHarvest {
  workflowId: string;
  runId: string;
  taskQueue: string;
}

export async function startHarvest(
  client: Client,
  input: HarvestRequestInput,
  options: { workflowId?: string; taskQueue: string },
): Promise<StartedHarvest> {
  // Checked here too, so a program using this API gets the same refusal as the CLI, before anything starts.
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw new InvalidRequestError(parsed.problems);
  const workflowId = options.workflowId || defaultWorkflowId(input.name);
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPES.harvest, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
    });
    return { workflowId, runId: handle.firstExecutionRunId, taskQueue: options.taskQueue };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(`a harvest with workflow id "${workflowId}" is already running; choose another --id`);
    }
    throw err;
  }
}
