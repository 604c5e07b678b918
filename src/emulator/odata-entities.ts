/**
 * JSON shapes of ODP entities, field for field in the order the real service returns them
 * (test/fixtures/real, docs/hook-api.md §4), per dialect (`2024-09` default, `2024-05`). Ids:
 * ProductionOrder/BatchOrder `Id` string, but a number in the creation answer; `WorkflowId` number,
 * item `Id` and `BatchOrderId` numbers. Timestamps: ISO-8601 UTC with milliseconds.
 */
import { createHash } from 'node:crypto';
import { isoMs } from './http-util';
import { type OptionEntry } from './order-validation';
import { type ItemRecord, type ItemStatus, type OrderRecord } from './orders';
import { type HookDialect, type WorkflowDef, isSecretOption } from './workflows-fixture';

export const CONTEXT = {
  workflows: '$metadata#Workflows/$entity',
  productionOrders: '$metadata#ProductionOrder/$entity',
  batchOrders: '$metadata#BatchOrder',
  batchOrder: '$metadata#BatchOrder/$entity',
  items: '#metadata/OData.CSC.BatchorderItem',
  item: '#metadata/OData.CSC.BatchorderItem/$entity',
  /** Recorded 2024-05-14 and 2024-09-02 (sic: `Odata`, `#metadata`). */
  batchOrderCreated: '#metadata/Odata.CSC.BatchOrder',
  orderCreated: '$metadata#OData.CSC.Order',
} as const;

/**
 * Options as listed with an order: what the service adds first (`brand`/`platform creodias` in May
 * 2024, `platform dedl` in Sep 2024, then `version`), then the given ones without secrets.
 */
export function echoOptions(order: OrderRecord, dialect: HookDialect = '2024-09'): OptionEntry[] {
  return [...addedOptions(order, dialect), ...order.options.filter((o) => !isSecretOption(o.Name))];
}

function addedOptions(order: OrderRecord, dialect: HookDialect): OptionEntry[] {
  const version = { Name: 'version', Value: order.workflowVersion };
  return dialect === '2024-05'
    ? [{ Name: 'brand', Value: 'dedl' }, { Name: 'platform', Value: 'creodias' }, version]
    : [{ Name: 'platform', Value: 'dedl' }, version];
}

/**
 * A secret echoed as the creation answer does: a Fernet token (version 0x80, 64-bit time, 16-byte
 * IV, ciphertext, 32-byte HMAC, base64url). Not decryptable: the bytes are hashes, not a cipher.
 */
export function fernetLike(secret: string, atMs: number, salt: string): string {
  const hash = (what: string, bytes: number) => {
    const out: Buffer[] = [];
    for (let i = 0; out.length * 32 < bytes; i++)
      out.push(createHash('sha256').update(`${what}:${i}:${salt}`).digest());
    return Buffer.concat(out).subarray(0, bytes);
  };
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000)));
  const cipherLength = (Math.floor(Buffer.byteLength(secret) / 16) + 1) * 16;
  const token = Buffer.concat([
    Buffer.from([0x80]),
    time,
    hash(`iv:${secret}`, 16),
    hash(`ct:${secret}`, cipherLength),
    hash(`mac:${secret}`, 32),
  ]);
  return token.toString('base64url') + '='.repeat((4 - (token.length % 4)) % 4);
}

/**
 * The answer to `POST BatchOrder/OData.CSC.Order` (recorded 2024-05-14 and 2024-09-02): a numeric
 * `Id`, `EstimatedDate` null, the owner's `KeycloakUUID`, `WorkflowId` of the workflow's version,
 * options echoed with the added ones and every secret as a Fernet token.
 */
export function createdOrderEntity(
  order: OrderRecord,
  workflow: WorkflowDef,
  dialect: HookDialect,
): Record<string, unknown> {
  const options = order.options.map((o) =>
    isSecretOption(o.Name) && o.Value !== null
      ? { Name: o.Name, Value: fernetLike(String(o.Value), order.submittedAt, `${order.id}`) }
      : o,
  );
  return {
    Name: order.name,
    Priority: order.priority,
    WorkflowName: order.workflowName,
    NotificationEndpoint: order.notificationEndpoint,
    NotificationEpUsername: order.notificationEpUsername,
    NotificationStatus: null,
    WorkflowOptions: [...addedOptions(order, dialect), ...options],
    Id: order.id,
    Status: 'queued',
    SubmissionDate: isoMs(order.submittedAt),
    EstimatedDate: null,
    KeycloakUUID: order.owner,
    WorkflowId: workflow.orderWorkflowId,
    WorkflowDisplayName: workflow.DisplayName,
    WorkflowVersion: workflow.WorkflowVersion,
  };
}

export function productionOrderEntity(
  order: OrderRecord,
  status: { status: ItemStatus; message: string },
  firstIdentifier: string,
  dialect: HookDialect = '2024-09',
): Record<string, unknown> {
  return {
    Id: String(order.id),
    Status: status.status,
    StatusMessage: status.message,
    SubmissionDate: isoMs(order.submittedAt),
    Name: order.name,
    EstimatedDate: isoMs(order.estimatedAt),
    InputProductReference: { Reference: firstIdentifier, ContentDate: null },
    WorkflowOptions: echoOptions(order, dialect),
    WorkflowName: order.workflowName,
    WorkflowId: order.workflowId,
    Priority: order.priority,
    NotificationEndpoint: order.notificationEndpoint,
    NotificationEpUsername: order.notificationEpUsername,
    NotificationStatus: null,
  };
}

export function batchOrderEntity(
  order: OrderRecord,
  status: { status: ItemStatus; message: string },
  identifiers: string[],
  dialect: HookDialect = '2024-09',
): Record<string, unknown> {
  return {
    Id: String(order.id),
    Status: status.status,
    StatusMessage: status.message,
    SubmissionDate: isoMs(order.submittedAt),
    Name: order.name,
    EstimatedDate: isoMs(order.estimatedAt),
    WorkflowOptions: echoOptions(order, dialect),
    WorkflowName: order.workflowName,
    WorkflowId: order.workflowId,
    Priority: order.priority,
    NotificationEndpoint: order.notificationEndpoint,
    NotificationEpUsername: order.notificationEpUsername,
    NotificationStatus: null,
    BatchSize: order.batchSize,
    BatchVolume: order.batchVolume,
    IdentifierList: identifiers,
  };
}

/** What a completed item says in the Sep-2024 dialect (recorded). */
export const ITEM_COMPLETED_MESSAGE = 'Processing finished successfully';

/**
 * An order item. May 2024 (recorded): no `StatusMessage`, `CompletedDate` null even when completed.
 * Sep 2024 (recorded for completed items): `StatusMessage` "Processing finished successfully" and
 * the real `CompletedDate`, placed before `DownloadLink`; other states' messages are guesses (null,
 * or the reason of a failed/cancelled item). `withMessage: false` leaves failure reasons out, as
 * DEDL items were seen without them (docs/hook-api.md §4, E4).
 */
export function itemEntity(
  item: ItemRecord,
  withMessage = true,
  dialect: HookDialect = '2024-09',
): Record<string, unknown> {
  const head: Record<string, unknown> = {
    Id: item.id,
    BatchOrderId: item.orderId,
    InputProductReference: item.identifier,
    SubmissionDate: isoMs(item.submittedAt),
    Status: item.status,
    ProcessedName: item.processedName,
    ProcessedSize: item.processedSize,
    OutputUUID: null,
  };
  const reason = withMessage && (item.status === 'failed' || item.status === 'cancelled') ? item.message : null;
  if (dialect === '2024-09') {
    const completed = item.status === 'completed';
    return {
      ...head,
      StatusMessage: completed ? ITEM_COMPLETED_MESSAGE : reason,
      CompletedDate: completed && item.endedAt !== null ? isoMs(item.endedAt) : null,
      DownloadLink: item.downloadLink,
      NotificationStatus: null,
    };
  }
  const e: Record<string, unknown> = {
    ...head,
    DownloadLink: item.downloadLink,
    NotificationStatus: null,
    CompletedDate: null,
  };
  if (reason !== null) e['StatusMessage'] = reason;
  return e;
}

export const PRODUCTION_ORDER_PROPERTIES = [
  'Id',
  'Status',
  'StatusMessage',
  'SubmissionDate',
  'Name',
  'EstimatedDate',
  'InputProductReference/Reference',
  'WorkflowName',
  'WorkflowId',
  'Priority',
  'NotificationEndpoint',
  'NotificationEpUsername',
  'NotificationStatus',
] as const;

export const BATCH_ORDER_PROPERTIES = [
  'Id',
  'Status',
  'StatusMessage',
  'SubmissionDate',
  'Name',
  'EstimatedDate',
  'WorkflowName',
  'WorkflowId',
  'Priority',
  'NotificationEndpoint',
  'NotificationEpUsername',
  'NotificationStatus',
  'BatchSize',
  'BatchVolume',
] as const;

export const ITEM_PROPERTIES = [
  'Id',
  'BatchOrderId',
  'InputProductReference',
  'SubmissionDate',
  'Status',
  'ProcessedName',
  'ProcessedSize',
  'OutputUUID',
  'DownloadLink',
  'NotificationStatus',
  'CompletedDate',
] as const;

export const WORKFLOW_PROPERTIES = [
  'Id',
  'Uuid',
  'Name',
  'DisplayName',
  'Documentation',
  'Description',
  'InputProductType',
  'OutputProductType',
  'WorkflowVersion',
  'CustomInputSource',
  'InputProductStatusOffline',
] as const;
