/**
 * Activities that talk to the Hook's order API: validate, submit exactly once, poll, cancel.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { CredentialStore } from '../config/credentials';
import type { HookClient } from '../hook/client';
import { type HookOrder, type HookOrderItem, isTerminalStatus } from '../hook/schemas';
import type { HarvestRequest } from '../shared/harvest-request';
import type { OrderItemView, OrderSnapshot, PollOrderInput, SubmitOrderInput, SubmittedOrder } from './contract';
import { preflightProblems, requestDestinations } from './destinations';
import { invalidRequest } from '../shared/failures';
import { translatingErrors } from './failures';
import { buildOrderOptions, checkOptions, optionsHash } from './order-options';

export interface HookActivityDeps {
  hook: HookClient;
  credentials: CredentialStore;
  /** Jitter source for poll intervals; injectable so tests can pin it. */
  random?: () => number;
}

export function createHookActivities(deps: HookActivityDeps) {
  const { hook, credentials } = deps;
  const random = deps.random ?? Math.random;
  const guard = <T>(body: () => Promise<T>) => translatingErrors(credentials.secrets(), body);
  const signal = () => Context.current().cancellationSignal;

  return {
    async validateHarvest(request: HarvestRequest): Promise<{ optionsHash: string }> {
      return guard(async () => {
        const problems = credentialProblems(request, credentials);
        const workflow = await hook.getWorkflow(request.workflow, signal());
        if (!workflow) {
          const known = (await hook.listWorkflows(signal())).map((w) => w.Name);
          problems.unshift(`workflow: the Hook has no workflow "${request.workflow}" (it has: ${known.join(', ')})`);
        } else {
          problems.push(...checkOptions(request, workflow.WorkflowOptions ?? []));
        }
        // The destinations last, and only for a request the Hook would take: probes cost a write each.
        if (problems.length === 0)
          problems.push(
            ...(await preflightProblems(requestDestinations(request, credentials), {
              secrets: credentials.secrets(),
              signal: signal(),
            })),
          );
        if (problems.length > 0) throw invalidRequest('harvest request', problems);
        return { optionsHash: optionsHash(request) };
      });
    },

    async submitOrder(input: SubmitOrderInput): Promise<SubmittedOrder> {
      return guard(async () => {
        // A previous attempt may have created the order and died before answering: adopt it.
        const existing = await hook.findOrdersByName(input.orderName, signal());
        const adopted = existing.sort((a, b) => Number(a.Id) - Number(b.Id))[0];
        const order =
          adopted ??
          (await hook.createBatchOrder(
            {
              Name: input.orderName,
              WorkflowName: input.request.workflow,
              IdentifierList: input.request.identifiers,
              WorkflowOptions: buildOrderOptions(input.request, credentials),
            },
            signal(),
          ));
        const items = (await hook.getOrderItems(order.Id, signal())).map(itemView);
        const unexplained = unexplainedFailures(items, new Set());
        if (unexplained.length > 0) explainByOrder(unexplained, await hook.getOrder(order.Id, signal()));
        return { orderId: order.Id, adopted: adopted !== undefined, items };
      });
    },

    async pollOrder(input: PollOrderInput): Promise<OrderSnapshot> {
      return guard(async () => {
        const items = (await hook.getOrderItems(input.orderId, signal())).map(itemView);
        const handled = new Set(input.handled);
        const news = items.some((item) => isTerminalStatus(item.status) && !handled.has(item.itemId));
        const listedDone = items.every((item) => isTerminalStatus(item.status));
        const missing = items.length < (input.expectedItems ?? 1);
        // The order itself is read when items are missing from its list (only its status says whether
        // more will come) or a failed item has no reason (the order's message gives it).
        const unexplained = unexplainedFailures(items, handled);
        const order =
          (listedDone && missing) || unexplained.length > 0 ? await hook.getOrder(input.orderId, signal()) : undefined;
        if (order) explainByOrder(unexplained, order);
        const orderEnded = order && isTerminalStatus(order.Status) ? order : undefined;
        const allDone = listedDone && (!missing || orderEnded !== undefined);
        if (news || allDone) {
          return {
            orderStatus: allDone ? 'completed' : 'in_progress',
            items,
            ...(orderEnded
              ? { orderEnded: { status: orderEnded.Status, message: orderEnded.StatusMessage ?? undefined } }
              : {}),
          };
        }
        const waiting = items.filter((item) => !isTerminalStatus(item.status));
        throw ApplicationFailure.create({
          type: 'OrderNotReady',
          message: `${waiting.length} of ${items.length} items still queued or in progress`,
          category: ApplicationFailureCategory.BENIGN,
          nextRetryDelay: nextPollDelay(Context.current().info.attempt, input, random),
        });
      });
    },

    async cancelOrder(input: { orderId: string }): Promise<void> {
      return guard(() => hook.cancelOrder(input.orderId, signal()));
    },
  };
}

/**
 * Wait before the next poll: grows from `initialIntervalMs` by `backoff` per attempt up to
 * `maxIntervalMs`, with ±20 % jitter so many harvests do not poll in lock-step.
 */
export function nextPollDelay(
  attempt: number,
  polling: Pick<PollOrderInput, 'initialIntervalMs' | 'maxIntervalMs' | 'backoff'>,
  random: () => number,
): number {
  const base = Math.min(polling.initialIntervalMs * polling.backoff ** Math.max(0, attempt - 1), polling.maxIntervalMs);
  // ±20 % jitter spreads the polls of many orders; capped after it, so maxInterval bounds the detection lag.
  return Math.max(1, Math.round(Math.min(base * (0.8 + 0.4 * random()), polling.maxIntervalMs)));
}

/** Newly failed items without a reason: DEDL items carry no StatusMessage (docs/hook-api.md §4, E4). */
function unexplainedFailures(items: OrderItemView[], handled: ReadonlySet<string>): OrderItemView[] {
  return items.filter((item) => item.status === 'failed' && !item.message && !handled.has(item.itemId));
}

/** The order's StatusMessage becomes the reason of its unexplained failed items. */
function explainByOrder(items: OrderItemView[], order: HookOrder): void {
  if (!order.StatusMessage) return;
  for (const item of items) item.message = `the Hook reports the item failed; the order says: ${order.StatusMessage}`;
}

function itemView(item: HookOrderItem): OrderItemView {
  return {
    itemId: item.Id,
    identifier: item.InputProductReference,
    status: item.Status,
    message: item.StatusMessage ?? undefined,
    processedSize: item.ProcessedSize ?? undefined,
    downloadLink: item.DownloadLink ?? undefined,
  };
}

/** Names that the worker cannot resolve, as validation problems naming the request field. */
function credentialProblems(request: HarvestRequest, credentials: CredentialStore): string[] {
  const wanted: [string, string, 'desp' | 's3' | 'client'][] = [];
  const { source, output } = request;
  if (source.type === 'DESP') wanted.push(['source.credentials', source.credentials, 'desp']);
  else if (source.type === 'EXTERNAL') {
    wanted.push(['source.credentials', source.credentials, source.grantType === 'PASSWORD' ? 'desp' : 'client']);
  } else if (source.type === 'S3') wanted.push(['source.credentials', source.credentials, 's3']);
  if (output.storage === 'PRIVATE') wanted.push(['output.credentials', output.credentials, 's3']);
  else if (output.sinkCredentials) wanted.push(['output.sinkCredentials', output.sinkCredentials, 's3']);
  return wanted.flatMap(([field, name, kind]) => {
    const problem = credentials.check(name, kind);
    return problem ? [`${field}: ${problem}`] : [];
  });
}
