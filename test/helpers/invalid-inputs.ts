/**
 * One table of invalid inputs — harvest requests and campaign requests — each with the field its
 * refusal must name and where the refusal comes from: the request schema (our CLI and the client
 * API before anything starts; the workflow itself when the input comes through
 * `temporal workflow start`), or the worker's check against the Hook's workflows and options and
 * its own credential sets. Shared by the e2e CLI tests and the bad-input chaos scenario.
 */
import type { WORKFLOW_TYPES } from '../../src/shared/constants';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const POLLING = { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' };

/** A secret pasted where a credential set's name belongs (one case): no refusal may repeat it. */
export const PASTED_SECRET = 'AKIA1234/SECRETKEY';

/** A valid harvest request; each case breaks one thing in it. */
export const good = (): Record<string, unknown> => ({
  name: 'invalid case',
  collection: COLLECTION,
  identifiers: [ID],
  output: { storage: 'TEMPORARY', sink: './out' },
  polling: POLLING,
});

/** A valid campaign request (a unique account label would not matter: nothing gets that far). */
export const goodCampaign = (): Record<string, unknown> => ({
  name: 'invalid campaign',
  collection: COLLECTION,
  identifiers: [ID],
  output: { storage: 'TEMPORARY', sink: './out' },
  polling: POLLING,
  account: { name: 'invalid-inputs', maxItemsInFlight: 5, monthlyOrders: 1000 },
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
const campaignWithout = (key: string) => {
  const request = goodCampaign();
  delete request[key];
  return request;
};

export interface InvalidCase {
  kind: string;
  /** The workflow type the input is for (`harvest` or `harvestCampaign`). */
  type: typeof WORKFLOW_TYPES.harvest | 'harvestCampaign';
  input: unknown;
  /** Who refuses it: the request schema (nothing starts), or the worker's validation (the workflow fails). */
  by: 'schema' | 'worker';
  /** The field the message must name. */
  field: string;
  says: string;
}

type Row = Omit<InvalidCase, 'type'>;
const harvest = (row: Row): InvalidCase => ({ type: 'harvest', ...row });
const campaign = (row: Row): InvalidCase => ({ type: 'harvestCampaign', ...row });

export const CASES: InvalidCase[] = [
  // Harvest requests: types, ranges, lists.
  harvest({ kind: 'missing name', input: without('name'), by: 'schema', field: 'name', says: 'expected string' }),
  harvest({
    kind: 'name of the wrong type',
    input: { ...good(), name: 42 },
    by: 'schema',
    field: 'name',
    says: 'expected string',
  }),
  harvest({
    kind: 'oversized name',
    input: { ...good(), name: 'n'.repeat(81) },
    by: 'schema',
    field: 'name',
    says: 'at most 80 characters',
  }),
  harvest({
    kind: 'injection-looking name',
    input: { ...good(), name: "x'; DROP TABLE orders;--" },
    by: 'schema',
    field: 'name',
    says: 'may use letters, digits',
  }),
  harvest({
    kind: 'name with a path',
    input: { ...good(), name: '../../etc/cron.d/x' },
    by: 'schema',
    field: 'name',
    says: 'may use letters, digits',
  }),
  harvest({
    kind: 'missing identifiers',
    input: without('identifiers'),
    by: 'schema',
    field: 'identifiers',
    says: 'expected array',
  }),
  harvest({
    kind: 'identifiers as a string',
    input: { ...good(), identifiers: ID },
    by: 'schema',
    field: 'identifiers',
    says: 'expected array',
  }),
  harvest({
    kind: 'empty identifier list',
    input: { ...good(), identifiers: [] },
    by: 'schema',
    field: 'identifiers',
    says: 'at least one',
  }),
  harvest({
    kind: 'oversized identifier list',
    input: { ...good(), identifiers: Array.from({ length: 101 }, (_, i) => `P${i}`) },
    by: 'schema',
    field: 'identifiers',
    says: 'at most 100 identifiers (use a campaign)',
  }),
  harvest({
    kind: 'identifier with a path separator',
    input: { ...good(), identifiers: ['../../etc/passwd'] },
    by: 'schema',
    field: 'identifiers.0',
    says: 'catalogue identifier',
  }),
  harvest({
    kind: 'injection-looking identifier',
    input: { ...good(), identifiers: ["S2A' or '1'='1"] },
    by: 'schema',
    field: 'identifiers.0',
    says: 'catalogue identifier',
  }),
  harvest({
    kind: 'repeated identifier',
    input: { ...good(), identifiers: [ID, ID] },
    by: 'schema',
    field: 'identifiers',
    says: 'repeat',
  }),
  harvest({
    kind: 'collection with a path',
    input: { ...good(), collection: '../EO.ESA' },
    by: 'schema',
    field: 'collection',
    says: 'catalogue collection id',
  }),
  // Output: URLs and credentials.
  harvest({ kind: 'missing output', input: without('output'), by: 'schema', field: 'output', says: 'must be' }),
  harvest({
    kind: 'TEMPORARY without sink',
    input: { ...good(), output: { storage: 'TEMPORARY' } },
    by: 'schema',
    field: 'output.sink',
    says: 'sink',
  }),
  harvest({
    kind: 'sink escaping its folder with ..',
    input: { ...good(), output: { storage: 'TEMPORARY', sink: 'file:///tmp/dedl/%2e%2e/../etc' } },
    by: 'schema',
    field: 'output.sink',
    says: 'must be a file:///dir or s3://bucket/prefix URL',
  }),
  harvest({
    kind: 'sink with a malformed percent escape',
    input: { ...good(), output: { storage: 'TEMPORARY', sink: 'file:///tmp/%E0%A4%A' } },
    by: 'schema',
    field: 'output.sink',
    says: 'must be a file:///dir or s3://bucket/prefix URL',
  }),
  harvest({
    kind: 'PRIVATE without target',
    input: { ...good(), output: { ...privateOutput, target: undefined } },
    by: 'schema',
    field: 'output.target',
    says: 'expected string',
  }),
  harvest({
    kind: 'malformed s3 URL',
    input: { ...good(), output: { ...privateOutput, target: 's3:/Bucket_A' } },
    by: 'schema',
    field: 'output.target',
    says: 'must be an s3://bucket/prefix URL',
  }),
  harvest({
    kind: 'endpoint that is not http(s)',
    input: { ...good(), output: { ...privateOutput, endpoint: 'ftp://127.0.0.1/x' } },
    by: 'schema',
    field: 'output.endpoint',
    says: 'must be an http(s) URL',
  }),
  harvest({
    kind: 'a secret where a credential set name goes',
    input: { ...good(), output: { ...privateOutput, credentials: PASTED_SECRET } },
    by: 'schema',
    field: 'output.credentials',
    says: 'must name a credential set',
  }),
  harvest({
    kind: 'unknown top-level field',
    input: { ...good(), priority: 1 },
    by: 'schema',
    field: '(request)',
    says: 'priority',
  }),
  // Polling, options, parallelism.
  harvest({
    kind: 'bad duration',
    input: { ...good(), polling: { ...POLLING, deadline: 'two days' } },
    by: 'schema',
    field: 'polling.deadline',
    says: 'duration',
  }),
  harvest({
    kind: 'backoff out of range',
    input: { ...good(), polling: { ...POLLING, backoff: 0.5 } },
    by: 'schema',
    field: 'polling.backoff',
    says: 'at least 1',
  }),
  harvest({
    kind: 'option set by hand that the request manages',
    input: { ...good(), options: [{ name: 'output_storage', value: 'PRIVATE' }] },
    by: 'schema',
    field: 'options.0.name',
    says: 'not by hand',
  }),
  harvest({
    kind: 'oversized option list',
    input: { ...good(), options: Array.from({ length: 51 }, (_, i) => ({ name: `opt_${i}`, value: i })) },
    by: 'schema',
    field: 'options',
    says: '<=50',
  }),
  harvest({
    kind: 'parallel downloads of 0',
    input: { ...good(), maxParallelDownloads: 0 },
    by: 'schema',
    field: 'maxParallelDownloads',
    says: '>=1',
  }),
  // What only the worker knows: the Hook's workflows and options, its own credential sets.
  harvest({
    kind: 'unknown Hook workflow',
    input: { ...good(), workflow: 'no-such-workflow' },
    by: 'worker',
    field: 'workflow',
    says: 'the Hook has no workflow "no-such-workflow"',
  }),
  harvest({
    kind: 'option the Hook workflow does not have',
    input: { ...good(), options: [{ name: 'colour_depth', value: 8 }] },
    by: 'worker',
    field: 'options.0',
    says: 'has no option "colour_depth"',
  }),
  harvest({
    kind: 'option value outside its allowed values',
    input: {
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
  }),
  harvest({
    kind: 'non-integer for an int option',
    input: {
      ...good(),
      workflow: 'card_cohinf',
      options: [
        { name: 'card_producttype', value: 'CARD_COH' },
        { name: 'timespan', value: 'three days' },
      ],
    },
    by: 'worker',
    field: 'options.1',
    says: 'must be an integer',
  }),
  harvest({
    kind: 'unknown credentials reference',
    input: { ...good(), output: { ...privateOutput, credentials: 'nobody' } },
    by: 'worker',
    field: 'output.credentials',
    says: 'no credential set named "nobody"',
  }),
  harvest({
    kind: 'unknown DESP source credentials',
    input: { ...good(), source: { type: 'DESP', credentials: 'someone-else' } },
    by: 'worker',
    field: 'source.credentials',
    says: 'no credential set named "someone-else"',
  }),

  // Campaign requests.
  campaign({
    kind: 'campaign name of the wrong type',
    input: { ...goodCampaign(), name: ['a'] },
    by: 'schema',
    field: 'name',
    says: 'expected string',
  }),
  campaign({
    kind: 'campaign with both identifiers and a query',
    input: { ...goodCampaign(), query: { datetime: '2023-09-01T00:00:00Z/..' } },
    by: 'schema',
    field: 'identifiers',
    says: 'give either "identifiers" or "query", not both',
  }),
  campaign({
    kind: 'campaign with neither identifiers nor a query',
    input: campaignWithout('identifiers'),
    by: 'schema',
    field: 'identifiers',
    says: 'give either "identifiers" or "query", not both',
  }),
  campaign({
    kind: 'campaign with an empty identifier list',
    input: { ...goodCampaign(), identifiers: [] },
    by: 'schema',
    field: 'identifiers',
    says: 'at least one',
  }),
  campaign({
    kind: 'oversized campaign',
    input: { ...goodCampaign(), identifiers: Array.from({ length: 10_001 }, (_, i) => `P${i}`) },
    by: 'schema',
    field: 'identifiers',
    says: 'at most 10000 identifiers',
  }),
  campaign({
    kind: 'campaign order size out of range',
    input: { ...goodCampaign(), orderSize: 101 },
    by: 'schema',
    field: 'orderSize',
    says: '<=100',
  }),
  campaign({
    kind: 'campaign order size of the wrong type',
    input: { ...goodCampaign(), orderSize: '10' },
    by: 'schema',
    field: 'orderSize',
    says: 'expected number',
  }),
  campaign({
    kind: 'campaign bbox out of range',
    input: { ...campaignWithout('identifiers'), query: { bbox: [5, 95, 11, 48] } },
    by: 'schema',
    field: 'query.bbox',
    says: 'must be [west, south, east, north]',
  }),
  campaign({
    kind: 'injection-looking campaign datetime',
    input: { ...campaignWithout('identifiers'), query: { datetime: "2023-09-01' OR 1=1 --" } },
    by: 'schema',
    field: 'query.datetime',
    says: 'RFC 3339',
  }),
  campaign({
    kind: 'campaign ledger escaping its folder',
    input: { ...goodCampaign(), ledger: { url: 'file:///tmp/dedl/../../etc/ledger' } },
    by: 'schema',
    field: 'ledger.url',
    says: 'must be a file:///dir or s3://bucket/prefix URL',
  }),
  campaign({
    kind: 'campaign s3 ledger without credentials',
    input: { ...goodCampaign(), ledger: { url: 's3://ledger-bucket/l' } },
    by: 'schema',
    field: 'ledger.credentials',
    says: 'needs "credentials"',
  }),
  campaign({
    kind: 'campaign account label with a path',
    input: { ...goodCampaign(), account: { name: '../other-account' } },
    by: 'schema',
    field: 'account.name',
    says: 'must be a label',
  }),
  campaign({
    kind: 'campaign continue-as-new threshold too low',
    input: { ...goodCampaign(), continueAsNewAfterEvents: 10 },
    by: 'schema',
    field: 'continueAsNewAfterEvents',
    says: '>=50',
  }),
  campaign({
    kind: 'unknown campaign field',
    input: { ...goodCampaign(), priority: 'high' },
    by: 'schema',
    field: '(request)',
    says: 'priority',
  }),
  campaign({
    kind: 'campaign with an unknown Hook workflow',
    input: { ...goodCampaign(), workflow: 'no-such-workflow' },
    by: 'worker',
    field: 'workflow',
    says: 'the Hook has no workflow "no-such-workflow"',
  }),
  campaign({
    kind: 'campaign with unknown s3 ledger credentials',
    input: { ...goodCampaign(), ledger: { url: 's3://ledger-bucket/l', credentials: 'nobody' } },
    by: 'worker',
    field: 'ledger.credentials',
    says: 'no credential set named "nobody"',
  }),
  campaign({
    kind: 'campaign with unknown output credentials',
    input: { ...goodCampaign(), output: { ...privateOutput, credentials: 'nobody' } },
    by: 'worker',
    field: 'output.credentials',
    says: 'no credential set named "nobody"',
  }),
];

/** A file name for a case's input. */
export function caseFile(c: InvalidCase): string {
  return `${c.type}-${c.kind.replace(/\W+/g, '-')}.json`;
}
