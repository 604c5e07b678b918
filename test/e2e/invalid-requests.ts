/**
 * Invalid harvest requests, one per kind, with the field each refusal must name and where the
 * refusal comes from: the request schema (our CLI, and the workflow itself when the request comes
 * through `temporal workflow start`), or the worker's check against the Hook's option definitions
 * and its credential sets. Shared by the CLI and the Temporal CLI tests.
 */
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const POLLING = { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' };

export const good = (): Record<string, unknown> => ({
  name: 'invalid case',
  collection: COLLECTION,
  identifiers: [ID],
  output: { storage: 'TEMPORARY', sink: './out' },
  polling: POLLING,
});
const privateOutput = {
  storage: 'PRIVATE',
  target: 's3://bucket-a/prefix',
  endpoint: 'http://127.0.0.1:9',
  credentials: 'local',
};
const without = (key: string) => {
  const request = good();
  delete request[key];
  return request;
};

export interface Case {
  kind: string;
  request: unknown;
  /** Where the refusal comes from: the CLI before starting anything, or the worker's validation. */
  by: 'cli' | 'worker';
  /** The field the message must name. */
  field: string;
  says: string;
}

export const CASES: Case[] = [
  { kind: 'missing name', request: without('name'), by: 'cli', field: 'name', says: 'expected string' },
  {
    kind: 'name of the wrong type',
    request: { ...good(), name: 42 },
    by: 'cli',
    field: 'name',
    says: 'expected string',
  },
  {
    kind: 'missing identifiers',
    request: without('identifiers'),
    by: 'cli',
    field: 'identifiers',
    says: 'expected array',
  },
  {
    kind: 'empty identifier list',
    request: { ...good(), identifiers: [] },
    by: 'cli',
    field: 'identifiers',
    says: 'at least one',
  },
  {
    kind: 'identifier with a path separator',
    request: { ...good(), identifiers: ['../../etc/passwd'] },
    by: 'cli',
    field: 'identifiers.0',
    says: 'catalogue identifier',
  },
  {
    kind: 'repeated identifier',
    request: { ...good(), identifiers: [ID, ID] },
    by: 'cli',
    field: 'identifiers',
    says: 'repeat',
  },
  { kind: 'missing output', request: without('output'), by: 'cli', field: 'output', says: 'must be' },
  {
    kind: 'TEMPORARY without sink',
    request: { ...good(), output: { storage: 'TEMPORARY' } },
    by: 'cli',
    field: 'output.sink',
    says: 'sink',
  },
  {
    kind: 'PRIVATE without target',
    request: { ...good(), output: { ...privateOutput, target: undefined } },
    by: 'cli',
    field: 'output.target',
    says: 'expected string',
  },
  {
    kind: 'malformed s3 URL',
    request: { ...good(), output: { ...privateOutput, target: 's3:/Bucket_A' } },
    by: 'cli',
    field: 'output.target',
    says: 'must be an s3://bucket/prefix URL',
  },
  {
    kind: 'a secret where a credential set name goes',
    request: { ...good(), output: { ...privateOutput, credentials: 'AKIA1234/SECRETKEY' } },
    by: 'cli',
    field: 'output.credentials',
    says: 'must name a credential set',
  },
  {
    kind: 'unknown top-level field',
    request: { ...good(), priority: 1 },
    by: 'cli',
    field: '(request)',
    says: 'priority',
  },
  {
    kind: 'bad duration',
    request: { ...good(), polling: { ...POLLING, deadline: 'two days' } },
    by: 'cli',
    field: 'polling.deadline',
    says: 'duration',
  },
  {
    kind: 'backoff out of range',
    request: { ...good(), polling: { ...POLLING, backoff: 0.5 } },
    by: 'cli',
    field: 'polling.backoff',
    says: 'at least 1',
  },
  {
    kind: 'option set by hand that the request manages',
    request: { ...good(), options: [{ name: 'output_storage', value: 'PRIVATE' }] },
    by: 'cli',
    field: 'options.0.name',
    says: 'not by hand',
  },
  {
    kind: 'parallel downloads of 0',
    request: { ...good(), maxParallelDownloads: 0 },
    by: 'cli',
    field: 'maxParallelDownloads',
    says: '>=1',
  },
  {
    kind: 'unknown Hook workflow',
    request: { ...good(), workflow: 'no-such-workflow' },
    by: 'worker',
    field: 'workflow',
    says: 'the Hook has no workflow "no-such-workflow"',
  },
  {
    kind: 'option the Hook workflow does not have',
    request: { ...good(), options: [{ name: 'colour_depth', value: 8 }] },
    by: 'worker',
    field: 'options.0',
    says: 'has no option "colour_depth"',
  },
  {
    kind: 'option value outside its allowed values',
    request: {
      ...good(),
      workflow: 'card_cohinf',
      options: [
        { name: 'card_producttype', value: 'CARD_XYZ' },
        { name: 'timespan', value: 3 },
      ],
    },
    by: 'worker',
    field: 'options.0',
    says: '"CARD_XYZ" is not one of "CARD_COH", "CARD_INF"',
  },
  {
    kind: 'required option missing',
    request: { ...good(), workflow: 'card_cohinf', options: [{ name: 'card_producttype', value: 'CARD_COH' }] },
    by: 'worker',
    field: 'options',
    says: 'requires option "timespan"',
  },
  {
    kind: 'unknown credentials reference',
    request: { ...good(), output: { ...privateOutput, credentials: 'nobody' } },
    by: 'worker',
    field: 'output.credentials',
    says: 'no credential set named "nobody"',
  },
  {
    kind: 'unknown DESP source credentials',
    request: { ...good(), source: { type: 'DESP', credentials: 'someone-else' } },
    by: 'worker',
    field: 'source.credentials',
    says: 'no credential set named "someone-else"',
  },
];
