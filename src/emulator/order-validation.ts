/**
 * Validation of order bodies, in two layers as FastAPI would do it:
 * - shape (422, pydantic-v1 style `{"detail":[{"loc","msg","type"}]}`): required fields, types;
 * - meaning (400, `{"detail":"…"}` naming the field or option): unknown workflow, unknown or
 *   duplicate option, value outside an enum's `Value`, non-integer `int`,
 *   PRIVATE without `output_s3_*`, S3 options with TEMPORARY, DESP/EXTERNAL without their options.
 */
import { type WorkflowDef } from './workflows-fixture';

export type OptionValue = string | number | boolean | null;
export interface OptionEntry {
  Name: string;
  Value: OptionValue;
}

export interface OrderRequest {
  Name: string;
  WorkflowName: string;
  IdentifierList: string[];
  WorkflowOptions: OptionEntry[];
  Priority: number;
  NotificationEndpoint: string | null;
  NotificationEpUsername: string | null;
  BatchSize: number | null;
  BatchVolume: number | null;
}

export type ValidationResult =
  { ok: true; request: OrderRequest; workflow: WorkflowDef } | { ok: false; status: number; body: { detail: unknown } };

interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

const S3_OPTIONS = [
  'output_s3_access_key',
  'output_s3_secret_key',
  'output_s3_path',
  'output_s3_endpoint_url',
] as const;
const DESP_OPTIONS = ['desp_source_username', 'desp_source_password', 'desp_source_collection'] as const;
const EXTERNAL_OPTIONS = ['source_catalogue_api_url', 'source_catalogue_collection'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `s3://bucket[/prefix]` → bucket and prefix (no surrounding slashes); undefined when malformed. */
export function parseS3Path(path: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(path.trim());
  if (!m?.[1]) return undefined;
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** Option value as a string, or undefined when absent or empty. */
export function optionText(options: readonly OptionEntry[], name: string): string | undefined {
  const v = options.find((o) => o.Name === name)?.Value;
  if (v === undefined || v === null) return undefined;
  const s = String(v);
  return s === '' ? undefined : s;
}

function shape(
  body: unknown,
  kind: 'batch' | 'production',
  maxItems: number,
): { errors: FieldError[]; request?: OrderRequest } {
  if (!isRecord(body))
    return { errors: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] };
  const errors: FieldError[] = [];
  const str = (field: string, required: boolean): string | null => {
    const v = body[field];
    if (v === undefined || v === null) {
      if (required) errors.push({ loc: ['body', field], msg: 'field required', type: 'value_error.missing' });
      return null;
    }
    if (typeof v !== 'string') {
      errors.push({ loc: ['body', field], msg: 'str type expected', type: 'type_error.str' });
      return null;
    }
    return v;
  };
  const int = (field: string): number | null => {
    const v = body[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      errors.push({ loc: ['body', field], msg: 'value is not a valid integer', type: 'type_error.integer' });
      return null;
    }
    return v;
  };

  const name = str('Name', true);
  const workflowName = str('WorkflowName', true);
  let identifiers: string[] = [];
  if (kind === 'batch') {
    const list = body['IdentifierList'];
    if (list === undefined || list === null) {
      errors.push({ loc: ['body', 'IdentifierList'], msg: 'field required', type: 'value_error.missing' });
    } else if (!Array.isArray(list)) {
      errors.push({ loc: ['body', 'IdentifierList'], msg: 'value is not a valid list', type: 'type_error.list' });
    } else {
      list.forEach((v, i) => {
        if (typeof v !== 'string')
          errors.push({ loc: ['body', 'IdentifierList', i], msg: 'str type expected', type: 'type_error.str' });
      });
      if (list.length === 0) {
        errors.push({
          loc: ['body', 'IdentifierList'],
          msg: 'ensure this value has at least 1 items',
          type: 'value_error.list.min_items',
          ctx: { limit_value: 1 },
        });
      } else if (list.length > maxItems) {
        errors.push({
          loc: ['body', 'IdentifierList'],
          msg: `ensure this value has at most ${maxItems} items`,
          type: 'value_error.list.max_items',
          ctx: { limit_value: maxItems },
        });
      }
      identifiers = list.filter((v): v is string => typeof v === 'string');
    }
  } else {
    const ref = body['InputProductReference'];
    if (ref === undefined || ref === null) {
      errors.push({ loc: ['body', 'InputProductReference'], msg: 'field required', type: 'value_error.missing' });
    } else if (typeof ref === 'string') {
      identifiers = [ref];
    } else if (isRecord(ref) && typeof ref['Reference'] === 'string') {
      identifiers = [ref['Reference']];
    } else {
      errors.push({
        loc: ['body', 'InputProductReference', 'Reference'],
        msg: 'field required',
        type: 'value_error.missing',
      });
    }
  }
  const options: OptionEntry[] = [];
  const rawOptions = body['WorkflowOptions'];
  if (rawOptions !== undefined && rawOptions !== null) {
    if (!Array.isArray(rawOptions)) {
      errors.push({ loc: ['body', 'WorkflowOptions'], msg: 'value is not a valid list', type: 'type_error.list' });
    } else {
      rawOptions.forEach((o, i) => {
        if (!isRecord(o)) {
          errors.push({
            loc: ['body', 'WorkflowOptions', i],
            msg: 'value is not a valid dict',
            type: 'type_error.dict',
          });
          return;
        }
        const n = o['Name'];
        const v = o['Value'];
        if (typeof n !== 'string') {
          errors.push({
            loc: ['body', 'WorkflowOptions', i, 'Name'],
            msg: n === undefined ? 'field required' : 'str type expected',
            type: n === undefined ? 'value_error.missing' : 'type_error.str',
          });
          return;
        }
        if (v !== null && v !== undefined && !['string', 'number', 'boolean'].includes(typeof v)) {
          errors.push({
            loc: ['body', 'WorkflowOptions', i, 'Value'],
            msg: 'str type expected',
            type: 'type_error.str',
          });
          return;
        }
        options.push({ Name: n, Value: (v ?? null) as OptionValue });
      });
    }
  }
  const priority = int('Priority');
  const notificationEndpoint = str('NotificationEndpoint', false);
  const notificationUser = str('NotificationEpUsername', false);
  const batchSize = int('BatchSize');
  const batchVolume = int('BatchVolume');
  if (errors.length > 0 || name === null || workflowName === null) return { errors };
  return {
    errors,
    request: {
      Name: name,
      WorkflowName: workflowName,
      IdentifierList: identifiers,
      WorkflowOptions: options,
      Priority: priority ?? 1,
      NotificationEndpoint: notificationEndpoint,
      NotificationEpUsername: notificationUser,
      BatchSize: batchSize,
      BatchVolume: batchVolume,
    },
  };
}

const bad = (detail: string): ValidationResult => ({ ok: false, status: 400, body: { detail } });

/** Validates an order body for `BatchOrder/OData.CSC.Order` (`batch`) or `ProductionOrder/OData.CSC.Order` (`production`). */
export function validateOrder(
  body: unknown,
  o: { kind: 'batch' | 'production'; workflows: readonly WorkflowDef[]; maxItems: number },
): ValidationResult {
  const { errors, request } = shape(body, o.kind, o.maxItems);
  if (!request) return { ok: false, status: 422, body: { detail: errors } };
  const wf = o.workflows.find((w) => w.Name === request.WorkflowName);
  if (!wf) return bad(`Workflow '${request.WorkflowName}' does not exist`);

  const seen = new Set<string>();
  for (const entry of request.WorkflowOptions) {
    if (seen.has(entry.Name)) return bad(`Option '${entry.Name}' is given more than once`);
    seen.add(entry.Name);
    const def = wf.WorkflowOptions.find((d) => d.Name === entry.Name);
    if (!def) return bad(`Unknown option '${entry.Name}' for workflow '${wf.Name}'`);
    const empty = entry.Value === null || entry.Value === '';
    if (def.Value && !empty && !def.Value.includes(String(entry.Value))) {
      return bad(
        `Invalid value '${String(entry.Value)}' for option '${entry.Name}': allowed values are ${def.Value.join(', ')}`,
      );
    }
    if (
      def.Type === 'int' &&
      !empty &&
      !(Number.isInteger(entry.Value) || (typeof entry.Value === 'string' && /^-?\d+$/.test(entry.Value)))
    ) {
      return bad(`Invalid value for option '${entry.Name}': an integer is required`);
    }
  }
  // `Required` flags are not enforced: the real service marks 17 of data-harvest's 19 options
  // required and accepted an order with 5 (test/fixtures/real/hook-order-created-2024-09-02.json).

  const storageDefault = wf.WorkflowOptions.find((d) => d.Name === 'output_storage')?.Default;
  const storage =
    optionText(request.WorkflowOptions, 'output_storage') ??
    (typeof storageDefault === 'string' ? storageDefault : undefined);
  if (storage === 'PRIVATE') {
    const missing = S3_OPTIONS.filter((n) => optionText(request.WorkflowOptions, n) === undefined);
    if (missing.length > 0)
      return bad(`output_storage PRIVATE requires s3 config: missing option(s) ${missing.join(', ')}`);
    const path = optionText(request.WorkflowOptions, 'output_s3_path') ?? '';
    if (!parseS3Path(path))
      return bad(`Invalid value for option 'output_s3_path': expected s3://<bucket>/<prefix>, got '${path}'`);
    const endpoint = optionText(request.WorkflowOptions, 'output_s3_endpoint_url') ?? '';
    if (!/^https?:\/\/[^/\s]+/.test(endpoint))
      return bad(`Invalid value for option 'output_s3_endpoint_url': expected an http(s) URL`);
  } else if (storage === 'TEMPORARY') {
    const extra = S3_OPTIONS.filter((n) => optionText(request.WorkflowOptions, n) !== undefined);
    if (extra.length > 0) return bad(`Option(s) ${extra.join(', ')} are only allowed with output_storage PRIVATE`);
  }
  const source = optionText(request.WorkflowOptions, 'source_type');
  const needed = source === 'DESP' ? DESP_OPTIONS : source === 'EXTERNAL' ? EXTERNAL_OPTIONS : [];
  const missing = needed.filter((n) => optionText(request.WorkflowOptions, n) === undefined);
  if (missing.length > 0) return bad(`source_type ${source} requires option(s) ${missing.join(', ')}`);
  return { ok: true, request, workflow: wf };
}
