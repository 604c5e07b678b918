/**
 * The Hook's OData shapes as zod schemas (docs/hook-api.md §4, §12; the recorded answers in
 * test/fixtures/real). They tolerate unknown fields (the API grows) and normalise ids — the service
 * mixes string and number ids — to strings.
 */
import { z } from 'zod';

export const odpId = z.union([z.string().min(1), z.number().int()]).transform(String);
const nullableString = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One allowed value of an enum-like option. Recorded in two forms: plain strings (May 2024) and
 * `{"value": "PRIVATE", "condition": null}` objects (Sep 2024); both become `{ value, condition }`.
 */
const choiceSchema = z
  .union([
    scalar.transform((value) => ({ value: String(value), condition: null as unknown })),
    z
      .object({ value: scalar.transform(String), condition: z.unknown().optional() })
      .loose()
      .transform((c) => ({ value: c.value, condition: c.condition ?? null })),
  ])
  .transform((c): OptionChoice => c);

export interface OptionChoice {
  value: string;
  /** When the service says the value applies (null: always); kept as recorded, not interpreted. */
  condition: unknown;
}

/**
 * An option definition as the Hook describes it. Its metadata is advisory (the live service marks
 * options `Required` that it does not require): `Value` is normalised to the list of allowed values
 * (null or empty: any value goes), `Type` is a Python type name (`str`, `int`, …) or a class name,
 * `Default` anything or null.
 */
export const workflowOptionDefSchema = z
  .object({
    Name: z.string(),
    Description: nullableString,
    Type: nullableString,
    Default: z.unknown().transform((v) => (v === undefined ? null : v)),
    Value: z
      .array(choiceSchema)
      .nullish()
      .transform((v) => v ?? null),
    Required: z
      .boolean()
      .nullish()
      .transform((v) => v ?? false),
  })
  .transform(({ Value, ...rest }) => ({
    ...rest,
    /** Allowed values of enum-like options; null when any value goes. */
    Value: Value && Value.length > 0 ? Value.map((c) => c.value) : null,
    /** The allowed values with their conditions, as recorded. */
    Choices: Value ?? [],
  }));
export type WorkflowOptionDef = z.infer<typeof workflowOptionDefSchema>;

export const workflowSchema = z.object({
  Id: odpId,
  Name: z.string(),
  DisplayName: nullableString,
  Description: nullableString,
  WorkflowVersion: nullableString,
  InputProductTypes: z.array(z.string()).nullish(),
  CustomInputSource: z.boolean().nullish(),
  WorkflowOptions: z.array(workflowOptionDefSchema).optional(),
});
export type HookWorkflow = z.infer<typeof workflowSchema>;

export const optionValueSchema = z.object({
  Name: z.string(),
  Value: z.union([z.string(), z.number(), z.boolean()]).nullable(),
});
export type OptionValue = z.infer<typeof optionValueSchema>;

export const orderStatusSchema = z.string().transform((s) => s.toLowerCase());

export const orderSchema = z.object({
  Id: odpId,
  Status: orderStatusSchema,
  StatusMessage: nullableString,
  SubmissionDate: nullableString,
  Name: z.string().nullish(),
  EstimatedDate: nullableString,
  WorkflowName: z.string().nullish(),
  WorkflowOptions: z.array(optionValueSchema).nullish(),
});
export type HookOrder = z.infer<typeof orderSchema>;

/** The answer to an order creation (recorded 2024-05-14 and 2024-09-02): only the `Id` is relied on. */
export const createdOrderSchema = orderSchema.partial().required({ Id: true });
export type CreatedOrder = z.infer<typeof createdOrderSchema>;

export const orderItemSchema = z.object({
  Id: odpId,
  BatchOrderId: odpId.nullish(),
  InputProductReference: z
    .union([z.string(), z.object({ Reference: z.string() }).loose()])
    .transform((ref) => (typeof ref === 'string' ? ref : ref.Reference)),
  SubmissionDate: nullableString,
  Status: orderStatusSchema,
  StatusMessage: nullableString,
  ProcessedName: nullableString,
  ProcessedSize: z
    .number()
    .nullish()
    .transform((v) => v ?? null),
  DownloadLink: nullableString,
  CompletedDate: nullableString,
});
export type HookOrderItem = z.infer<typeof orderItemSchema>;

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    value: z.array(item),
    '@odata.count': z.number().optional(),
    '@odata.nextLink': z.string().optional(),
  });

/** Creation answers wrap the entity in `value`; keyed GETs may return it bare. Accept both. */
export const singleOf = <T extends z.ZodType>(item: T): z.ZodType<z.output<T>> =>
  z.union([z.object({ value: item }).transform((wrapped) => (wrapped as { value: z.output<T> }).value), item]);

/** The states after which an order item never changes again. */
export const TERMINAL_ITEM_STATES = ['completed', 'failed', 'cancelled'] as const;
export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_ITEM_STATES as readonly string[]).includes(status);
}
