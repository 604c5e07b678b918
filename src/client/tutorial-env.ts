/**
 * `run --from-env .env_tutorial`: the Hook tutorial's `HOOK_*` variables turned into a
 * HarvestRequest, so its users keep their setup. What the tutorial puts into the order body as
 * secrets (S3 keys, external passwords) is NOT carried over: a request names credential sets and
 * the worker holds them; `notes` tells the user which variables the worker needs instead.
 */
import type { HarvestRequestInput } from '../shared/harvest-request';

/** Defaults of the tutorial notebook (seed/hook-tutorial-data-harvest.txt). */
export const TUTORIAL_DEFAULTS = {
  workflow: 'data-harvest',
  collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
  identifier: 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE',
  outputStorageUrl: 'https://s3.central.data.destination-earth.eu',
  stacUrl: 'https://hda.data.destination-earth.eu/stac',
  orderName: 'tutorial',
} as const;

export interface TutorialMappingOptions {
  /** Sink of a TEMPORARY harvest (the tutorial downloads next to the notebook). */
  sink: string;
  /** Credential set for the PRIVATE bucket (the tutorial's `HOOK_OUTPUT_STORAGE_*` keys). */
  outputCredentials: string;
  /** Credential set for an EXTERNAL source (`HOOK_EXTERNAL_USERNAME`/`PASSWORD`). */
  sourceCredentials: string;
}

export interface TutorialMapping {
  request: HarvestRequestInput;
  /** Which request field came from which variable, to name the variable in validation errors. */
  origins: Record<string, string>;
  /** What the user should know: secrets not carried over, variables ignored. */
  notes: string[];
}

/** `HOOK_ADDITIONAL1="NAME=timespan;VALUE=3;TYPE=int"` → `{ name, value }` (the tutorial's format). */
export function parseAdditionalOption(text: string): { name: string; value: string | number } | undefined {
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toUpperCase(), part.slice(eq + 1).trim());
  }
  const name = fields.get('NAME');
  const value = fields.get('VALUE');
  if (!name || value === undefined) return undefined;
  const type = (fields.get('TYPE') ?? 'str').toLowerCase();
  return { name, value: type === 'str' ? value : Number(value) };
}

/** Turns the tutorial's variables into a request (not yet validated: callers run parseHarvestRequest). */
export function requestFromTutorialEnv(env: NodeJS.ProcessEnv, options: TutorialMappingOptions): TutorialMapping {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const notes: string[] = [];
  const origins: Record<string, string> = {
    name: 'HOOK_ORDER_NAME',
    workflow: 'HOOK_WORKFLOW',
    collection: 'HOOK_COLLECTION_ID',
    identifiers: 'HOOK_DATA_ID',
    output: 'HOOK_IS_PRIVATE_STORAGE',
    source: 'HOOK_SOURCE_TYPE',
    options: 'HOOK_ADDITIONAL*',
  };

  const workflow = get('HOOK_WORKFLOW') ?? TUTORIAL_DEFAULTS.workflow;
  const orderName = get('HOOK_ORDER_NAME') ?? TUTORIAL_DEFAULTS.orderName;
  if (!get('HOOK_ORDER_NAME')) notes.push(`HOOK_ORDER_NAME is not set: the harvest is named "${orderName}"`);
  const collection = get('HOOK_COLLECTION_ID') ?? TUTORIAL_DEFAULTS.collection;
  const identifiers = (get('HOOK_DATA_ID') ?? TUTORIAL_DEFAULTS.identifier)
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');

  let output: HarvestRequestInput['output'];
  if (get('HOOK_IS_PRIVATE_STORAGE') === 'True') {
    const bucket = get('HOOK_OUTPUT_BUCKET') ?? 'your-bucket-name';
    origins['output.target'] = 'HOOK_OUTPUT_BUCKET';
    origins['output.endpoint'] = 'HOOK_OUTPUT_STORAGE_URL';
    output = {
      storage: 'PRIVATE',
      // The tutorial's prefix: dedl-<workflow>-<order name>.
      target: `s3://${bucket}/dedl-${workflow}-${orderName}`,
      endpoint: get('HOOK_OUTPUT_STORAGE_URL') ?? TUTORIAL_DEFAULTS.outputStorageUrl,
      credentials: options.outputCredentials,
    };
    if (get('HOOK_OUTPUT_STORAGE_ACCESS_KEY') || get('HOOK_OUTPUT_STORAGE_SECRET_KEY')) {
      const stem = `DEDL_CREDENTIALS_${options.outputCredentials.toUpperCase().replace(/-/g, '_')}`;
      notes.push(
        `HOOK_OUTPUT_STORAGE_ACCESS_KEY/SECRET_KEY are not sent with the request: the worker needs ` +
          `${stem}_ACCESS_KEY_ID and ${stem}_SECRET_ACCESS_KEY (credential set "${options.outputCredentials}")`,
      );
    }
  } else {
    output = { storage: 'TEMPORARY', sink: options.sink };
    origins['output.sink'] = '--sink';
  }

  let source: HarvestRequestInput['source'];
  const sourceType = get('HOOK_SOURCE_TYPE') ?? 'DESP';
  if (sourceType === 'EXTERNAL') {
    origins['source.tokenUrl'] = 'HOOK_EXTERNAL_TOKEN_URL';
    origins['source.clientId'] = 'HOOK_EXTERNAL_CLIENT_ID';
    source = {
      type: 'EXTERNAL',
      catalogueUrl: TUTORIAL_DEFAULTS.stacUrl,
      catalogueType: 'STAC',
      tokenUrl: get('HOOK_EXTERNAL_TOKEN_URL') ?? '',
      grantType: 'PASSWORD',
      clientId: get('HOOK_EXTERNAL_CLIENT_ID') ?? '',
      credentials: options.sourceCredentials,
    };
    if (get('HOOK_EXTERNAL_USERNAME') || get('HOOK_EXTERNAL_PASSWORD')) {
      const stem = `DEDL_CREDENTIALS_${options.sourceCredentials.toUpperCase().replace(/-/g, '_')}`;
      notes.push(
        `HOOK_EXTERNAL_USERNAME/PASSWORD are not sent with the request: the worker needs ` +
          `${stem}_USERNAME and ${stem}_PASSWORD (credential set "${options.sourceCredentials}")`,
      );
    }
  } else if (sourceType === 'DESP') {
    source = { type: 'DESP' };
  } else {
    // Passed on as is, so validation refuses it and names the field.
    source = { type: sourceType } as unknown as HarvestRequestInput['source'];
  }

  const extra: NonNullable<HarvestRequestInput['options']> = [];
  for (const key of Object.keys(env)
    .filter((k) => k.startsWith('HOOK_ADDITIONAL'))
    .sort()) {
    const parsed = parseAdditionalOption(env[key] ?? '');
    if (parsed) {
      origins[`options.${extra.length}`] = key;
      extra.push(parsed);
    } else {
      notes.push(`${key} is not of the form NAME=<option>;VALUE=<value>;TYPE=str|int and was ignored`);
    }
  }

  const request: HarvestRequestInput = {
    name: orderName,
    workflow,
    collection,
    identifiers,
    source,
    output,
    ...(extra.length > 0 ? { options: extra } : {}),
  };
  return { request, origins, notes };
}

/** Appends `(from HOOK_X)` to problems about fields that came from a tutorial variable. */
export function annotateProblems(problems: string[], origins: Record<string, string>): string[] {
  const keys = Object.keys(origins).sort((a, b) => b.length - a.length);
  return problems.map((problem) => {
    const field = problem.slice(0, problem.indexOf(':'));
    const key = keys.find((k) => field === k || field.startsWith(`${k}.`));
    return key ? `${problem} (from ${origins[key]})` : problem;
  });
}
