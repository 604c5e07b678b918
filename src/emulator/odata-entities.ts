/**
 * JSON shapes of ODP entities, field for field in the order the real service returns them
 * (hook-api.md §4). Ids: ProductionOrder/BatchOrder `Id` string, `WorkflowId` number, item `Id`
 * and `BatchOrderId` numbers. Timestamps: ISO-8601 UTC with milliseconds.
 */
import { isoMs } from './http-util';
import { type OptionEntry } from './order-validation';
import { type ItemRecord, type ItemStatus, type OrderRecord } from './orders';
import { isSecretOption } from './workflows-fixture';

export const CONTEXT = {
  workflows: '$metadata#Workflows/$entity',
  productionOrders: '$metadata#ProductionOrder/$entity',
  batchOrders: '$metadata#BatchOrder',
  batchOrder: '$metadata#BatchOrder/$entity',
  items: '#metadata/OData.CSC.BatchorderItem',
  item: '#metadata/OData.CSC.BatchorderItem/$entity',
  batchOrderCreated: '$metadata#OData.CSC.BatchOrder',
  orderCreated: '$metadata#OData.CSC.Order',
} as const;

/** Options as echoed: `brand`, `platform`, `version` first; secret options left out. */
export function echoOptions(order: OrderRecord): OptionEntry[] {
  return [
    { Name: 'brand', Value: 'dedl' },
    { Name: 'platform', Value: 'creodias' },
    { Name: 'version', Value: order.workflowVersion },
    ...order.options.filter((o) => !isSecretOption(o.Name)),
  ];
}

export function productionOrderEntity(
  order: OrderRecord,
  status: { status: ItemStatus; message: string },
  firstIdentifier: string,
): Record<string, unknown> {
  return {
    Id: String(order.id),
    Status: status.status,
    StatusMessage: status.message,
    SubmissionDate: isoMs(order.submittedAt),
    Name: order.name,
    EstimatedDate: isoMs(order.estimatedAt),
    InputProductReference: { Reference: firstIdentifier, ContentDate: null },
    WorkflowOptions: echoOptions(order),
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
): Record<string, unknown> {
  return {
    Id: String(order.id),
    Status: status.status,
    StatusMessage: status.message,
    SubmissionDate: isoMs(order.submittedAt),
    Name: order.name,
    EstimatedDate: isoMs(order.estimatedAt),
    WorkflowOptions: echoOptions(order),
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

/** An order item. `StatusMessage` is added only to failed and cancelled items (none in the captures of others). */
/** `withMessage: false` leaves out `StatusMessage`, as the real DEDL items do (hook-api.md E4). */
export function itemEntity(item: ItemRecord, withMessage = true): Record<string, unknown> {
  const e: Record<string, unknown> = {
    Id: item.id,
    BatchOrderId: item.orderId,
    InputProductReference: item.identifier,
    SubmissionDate: isoMs(item.submittedAt),
    Status: item.status,
    ProcessedName: item.processedName,
    ProcessedSize: item.processedSize,
    OutputUUID: null,
    DownloadLink: item.downloadLink,
    NotificationStatus: null,
    CompletedDate: null,
  };
  if (withMessage && (item.status === 'failed' || item.status === 'cancelled')) e['StatusMessage'] = item.message;
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
