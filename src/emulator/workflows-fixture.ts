/**
 * The workflows the emulator offers and their option definitions, per Hook dialect:
 * - `2024-09` (default): the workflow list and data-harvest's options exactly as recorded on
 *   2024-09-02 (workflows-recorded.ts); an option's allowed values are served as
 *   `{"value", "condition"}` objects, `Type` is `str`/`int`;
 * - `2024-05`: the workflow list recorded on 2024-06-06 (`card_bs_private`, `maja_private`,
 *   `sen2cor_private`), allowed values as plain strings, `Type` a class name for enums
 *   (`CustomOutputStorageType`, `CatalogueType`), every option `Required: false`, output_storage
 *   defaulting to PRIVATE — as data-harvest's definitions recorded on 2024-05-03 show.
 * The options of the processing workflows were never recorded: they are guesses from the Lab's
 * README examples (src/emulator/README.md lists them). `Required` is advisory on the real service
 * (it accepted orders without 12 of its "required" options) and is not enforced here either.
 */
import {
  DATA_HARVEST_OPTIONS_2024_09,
  type RecordedWorkflow,
  WORKFLOWS_2024_06,
  WORKFLOWS_2024_09,
  type WorkflowOptionDef,
} from './workflows-recorded';

/** The Hook's answer dialects the emulator can speak (the dates of the recordings they follow). */
export const HOOK_DIALECTS = ['2024-09', '2024-05'] as const;
export type HookDialect = (typeof HOOK_DIALECTS)[number];

export interface WorkflowDef extends RecordedWorkflow {
  WorkflowOptions: WorkflowOptionDef[];
  /** Whether orders name a source (`source_type` and its options); copdem, maja and custom hooks do not. */
  takesSource: boolean;
  /** `WorkflowId` in the answer to an order creation: 17 for data-harvest (recorded), else the Id (a guess). */
  orderWorkflowId: number;
}

const opt = (
  Name: string,
  Description: string,
  more: Partial<Omit<WorkflowOptionDef, 'Name' | 'Description'>> = {},
): WorkflowOptionDef => ({ Name, Description, Type: 'str', Default: null, Value: null, Required: false, ...more });

const byName = (options: readonly WorkflowOptionDef[], names: readonly string[]): WorkflowOptionDef[] =>
  names.map((name) => {
    const found = options.find((o) => o.Name === name);
    if (!found) throw new Error(`no recorded option ${name}`);
    return { ...found, Value: found.Value && [...found.Value] };
  });

/** The recorded output options, reused for every workflow (processing hooks write outputs the same way). */
const outputOptions = (): WorkflowOptionDef[] =>
  byName(DATA_HARVEST_OPTIONS_2024_09, [
    'output_storage',
    'output_s3_endpoint_url',
    'output_s3_access_key',
    'output_s3_secret_key',
    'output_s3_path',
  ]);

/** The recorded source options (DESP and EXTERNAL). */
const sourceOptions = (): WorkflowOptionDef[] =>
  DATA_HARVEST_OPTIONS_2024_09.filter((o) => o.Name.startsWith('source_') || o.Name.startsWith('desp_source_')).map(
    (o) => ({ ...o, Value: o.Value && [...o.Value] }),
  );

/** Options of the processing workflows beyond output and source: the Lab README's examples (guesses). */
const EXTRA_OPTIONS: Record<string, WorkflowOptionDef[]> = {
  card_cohinf: [
    opt('card_producttype', "Output product type, one of 'CARD_COH', 'CARD_INF'.", { Value: ['CARD_COH', 'CARD_INF'] }),
    opt('timespan', 'Time span in days to look for the secondary product.', { Type: 'int' }),
  ],
  maja: [
    opt('input_type', "Input selection mode, e.g. 'TIMESPAN'."),
    opt('timeseries_end_id', 'Identifier of the last product of the time series.'),
    opt('timespan', 'Length of the time series in days.', { Type: 'int' }),
  ],
  dedl_hello_world: [
    opt('source_s3_path', "Input location as s3://<bucket>/<folder>, containing 'example.data'."),
    opt('source_s3_endpoint_url', 'Endpoint URL of the input S3 service.'),
    opt('source_s3_access_key', 'Access key of the input S3 bucket.'),
    opt('source_s3_secret_key', 'Secret key of the input S3 bucket.'),
  ],
};
/** Workflows that read their input themselves (Creodias catalogue, a custom S3 folder): no source options. */
const NO_SOURCE = new Set(['copdem', 'maja', 'maja_private', 'dedl_hello_world', 'odp-test']);

/** data-harvest's options in the May-2024 flavour: class-name enum types, nothing required, PRIVATE by default. */
function may2024Flavour(options: WorkflowOptionDef[]): WorkflowOptionDef[] {
  const enumType: Record<string, string> = {
    output_storage: 'CustomOutputStorageType',
    source_type: 'SourceType',
    source_catalogue_api_type: 'CatalogueType',
    source_grant_type: 'GrantType',
  };
  return options.map((o) => ({
    ...o,
    Type: enumType[o.Name] ?? o.Type,
    Required: false,
    Default: o.Name === 'output_storage' ? 'PRIVATE' : o.Default,
  }));
}

/** The workflow list of a dialect, ordered by Id. */
export function workflowsFixture(dialect: HookDialect = '2024-09'): WorkflowDef[] {
  const recorded = dialect === '2024-09' ? WORKFLOWS_2024_09 : WORKFLOWS_2024_06;
  return recorded
    .map((w): WorkflowDef => {
      const base = w.Name.replace(/_private$/, '');
      const takesSource = !NO_SOURCE.has(w.Name);
      const options =
        w.Name === 'data-harvest'
          ? DATA_HARVEST_OPTIONS_2024_09.map((o) => ({ ...o, Value: o.Value && [...o.Value] }))
          : [...outputOptions(), ...(takesSource ? sourceOptions() : []), ...(EXTRA_OPTIONS[base] ?? [])];
      return {
        ...w,
        InputProductTypes: [...w.InputProductTypes],
        OutputProductTypes: [...w.OutputProductTypes],
        WorkflowOptions: dialect === '2024-05' ? may2024Flavour(options) : options,
        takesSource,
        orderWorkflowId: w.Name === 'data-harvest' ? 17 : Number(w.Id),
      };
    })
    .sort((a, b) => Number(a.Id) - Number(b.Id));
}

/** Options whose values are never echoed back in clear (`*password*`, `*secret*`). */
export function isSecretOption(name: string): boolean {
  return /password|secret/i.test(name);
}

/** An option definition as served: Sep 2024 wraps each allowed value in `{"value", "condition"}`. */
function optionEntity(o: WorkflowOptionDef, dialect: HookDialect): Record<string, unknown> {
  const value = o.Value && dialect === '2024-09' ? o.Value.map((v) => ({ value: v, condition: null })) : o.Value;
  return {
    Name: o.Name,
    Description: o.Description,
    Type: o.Type,
    Default: o.Default,
    Value: value,
    Required: o.Required,
  };
}

/** The workflow entity as the API returns it (fields in the recorded order), with or without its option definitions. */
export function workflowEntity(
  w: WorkflowDef,
  expandOptions: boolean,
  dialect: HookDialect = '2024-09',
): Record<string, unknown> {
  return {
    Id: w.Id,
    Uuid: w.Uuid,
    Name: w.Name,
    DisplayName: w.DisplayName,
    Documentation: w.Documentation,
    Description: w.Description,
    InputProductType: w.InputProductType,
    InputProductTypes: w.InputProductTypes,
    OutputProductType: w.OutputProductType,
    OutputProductTypes: w.OutputProductTypes,
    WorkflowVersion: w.WorkflowVersion,
    ...(expandOptions ? { WorkflowOptions: w.WorkflowOptions.map((o) => optionEntity(o, dialect)) } : {}),
    CustomInputSource: w.CustomInputSource,
    InputProductStatusOffline: w.InputProductStatusOffline,
  };
}
