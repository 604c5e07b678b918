/**
 * Turns a HarvestRequest into the Hook's `WorkflowOptions`, and checks those options against the
 * Hook workflow's own option definitions before anything is ordered. Secrets are filled in only
 * when `credentials` is given (at submit time); validation works on placeholders.
 */
import type { CredentialStore } from '../config/credentials';
import type { OptionValue, WorkflowOptionDef } from '../hook/schemas';
import type { HarvestRequest } from '../shared/harvest-request';
import { optionsHash as ledgerOptionsHash } from '../storage/ledger';

/** Marks where a secret goes when options are built for validation only. */
const PLACEHOLDER = '<secret>';

export function buildOrderOptions(request: HarvestRequest, credentials?: CredentialStore): OptionValue[] {
  const secret = (value: () => string) => (credentials ? value() : PLACEHOLDER);
  const options: OptionValue[] = [{ Name: 'output_storage', Value: request.output.storage }];
  const { source, output } = request;

  const collection = request.collection ?? '';
  if (source.type === 'DESP') {
    options.push(
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: secret(() => credentials!.desp(source.credentials).username) },
      { Name: 'desp_source_password', Value: secret(() => credentials!.desp(source.credentials).password) },
      { Name: 'desp_source_collection', Value: collection },
    );
  } else if (source.type === 'EXTERNAL') {
    options.push(
      { Name: 'source_type', Value: 'EXTERNAL' },
      { Name: 'source_catalogue_api_url', Value: source.catalogueUrl },
      { Name: 'source_catalogue_api_type', Value: source.catalogueType },
      { Name: 'source_catalogue_collection', Value: collection },
      { Name: 'source_token_url', Value: source.tokenUrl },
      { Name: 'source_grant_type', Value: source.grantType },
      { Name: 'source_client_id', Value: source.clientId },
    );
    if (source.grantType === 'PASSWORD') {
      options.push(
        { Name: 'source_username', Value: secret(() => credentials!.desp(source.credentials).username) },
        { Name: 'source_password', Value: secret(() => credentials!.desp(source.credentials).password) },
      );
    } else {
      options.push({
        Name: 'source_client_secret',
        Value: secret(() => credentials!.client(source.credentials).clientSecret),
      });
    }
  } else if (source.type === 'S3') {
    // A custom hook's input folder (the Lab README's dedl_hello_world example), no source_type.
    options.push(
      { Name: 'source_s3_path', Value: source.path },
      { Name: 'source_s3_endpoint_url', Value: source.endpoint },
      { Name: 'source_s3_access_key', Value: secret(() => credentials!.s3(source.credentials).accessKeyId) },
      { Name: 'source_s3_secret_key', Value: secret(() => credentials!.s3(source.credentials).secretAccessKey) },
    );
  }
  // source NONE: the workflow finds its input itself (copdem, maja); no source options at all.

  if (output.storage === 'PRIVATE') {
    options.push(
      { Name: 'output_s3_path', Value: output.target },
      { Name: 'output_s3_endpoint_url', Value: output.endpoint },
      { Name: 'output_s3_access_key', Value: secret(() => credentials!.s3(output.credentials).accessKeyId) },
      { Name: 'output_s3_secret_key', Value: secret(() => credentials!.s3(output.credentials).secretAccessKey) },
    );
  }
  for (const extra of request.options) options.push({ Name: extra.name, Value: extra.value });
  return options;
}

/**
 * What the option descriptions state an order needs (data-harvest, Sep 2024): "If equal to
 * 'PRIVATE' then all 'output_s3_*' parameters are required", "'DESP' (… requires
 * 'desp_source_*' options), 'EXTERNAL' (… requires 'source_*' options)". The `Required` flags are
 * not used: the live service marks 17 of 19 options required and accepts orders with 5.
 */
const CONDITIONAL_REQUIREMENTS: readonly { option: string; value: string; requires: readonly string[] }[] = [
  {
    option: 'output_storage',
    value: 'PRIVATE',
    requires: ['output_s3_endpoint_url', 'output_s3_access_key', 'output_s3_secret_key', 'output_s3_path'],
  },
  {
    option: 'source_type',
    value: 'EXTERNAL',
    requires: ['source_catalogue_api_url', 'source_catalogue_collection', 'source_token_url', 'source_client_id'],
  },
  {
    option: 'source_type',
    value: 'DESP',
    requires: ['desp_source_username', 'desp_source_password', 'desp_source_collection'],
  },
];

/**
 * Problems with the order's options that are certainly wrong, each naming the field: an option the
 * workflow does not know (when its list is known), a value outside an option's non-empty allowed
 * list, a non-integer for an `int` option, and an option a given value requires by the rules the
 * descriptions state. Everything else the Hook decides itself (its refusal is reported as is).
 */
export function checkOptions(request: HarvestRequest, definitions: readonly WorkflowOptionDef[]): string[] {
  const byName = new Map(definitions.map((d) => [d.Name, d]));
  const options = buildOrderOptions(request);
  const field = (name: string) => {
    const index = request.options.findIndex((o) => o.name === name);
    return index >= 0 ? `options.${index}` : `option ${name}`;
  };
  const problems: string[] = [];
  for (const option of options) {
    const definition = byName.get(option.Name);
    if (!definition) {
      if (definitions.length > 0) {
        problems.push(`${field(option.Name)}: the Hook workflow "${request.workflow}" has no option "${option.Name}"`);
      }
    } else if (definition.Value && option.Value !== PLACEHOLDER && !definition.Value.includes(String(option.Value))) {
      problems.push(
        `${field(option.Name)}: "${String(option.Value)}" is not one of ${definition.Value.map((v) => `"${v}"`).join(', ')}`,
      );
    } else if (isIntType(definition.Type) && !isInteger(option.Value)) {
      problems.push(`${field(option.Name)}: must be an integer, not "${String(option.Value)}"`);
    }
  }
  const given = new Map(options.map((o) => [o.Name, o.Value]));
  for (const rule of CONDITIONAL_REQUIREMENTS) {
    if (given.get(rule.option) !== rule.value) continue;
    for (const name of rule.requires) {
      const value = given.get(name);
      if (value === undefined || value === null || value === '') {
        problems.push(`${field(name)}: ${rule.option} ${rule.value} requires option "${name}"`);
      }
    }
  }
  return problems;
}

/** `int`, `integer`, `Int64`…: the Python and OData spellings of an integer type. */
function isIntType(type: string | null): boolean {
  return /^(int|integer|int\d+|edm\.int\d+)$/i.test(type ?? '');
}

function isInteger(value: OptionValue['Value']): boolean {
  if (typeof value === 'number') return Number.isInteger(value);
  return typeof value === 'string' && /^-?\d+$/.test(value.trim());
}

/** A stable fingerprint of what was ordered, without secrets: part of the ledger's key. */
export function optionsHash(request: HarvestRequest): string {
  const options = buildOrderOptions(request).filter((o) => o.Value !== PLACEHOLDER);
  return ledgerOptionsHash(options.map((o) => ({ name: o.Name, value: o.Value })));
}
