import { parseHarvestRequest } from '../../../src/shared/harvest-request';

const valid = {
  name: 's2-alps-2023-09',
  collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
  identifiers: ['S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE'],
  output: { storage: 'TEMPORARY', sink: 'file:///data/harvest' },
};

describe('parseHarvestRequest', () => {
  it('fills in defaults for a minimal request', () => {
    const parsed = parseHarvestRequest(valid);
    expect(parsed).toEqual({
      ok: true,
      request: expect.objectContaining({
        workflow: 'data-harvest',
        source: { type: 'DESP', credentials: 'desp' },
        options: [],
        polling: { initialInterval: '15s', maxInterval: '10m', backoff: 1.6, deadline: '48h' },
        maxParallelDownloads: 4,
      }),
    });
  });

  const privateOut = {
    storage: 'PRIVATE',
    target: 's3://b/p',
    endpoint: 'https://s3.example.eu',
    credentials: 'islet',
  };
  it.each([
    ['an empty identifier list', { ...valid, identifiers: [] }, 'identifiers: must list at least one identifier'],
    [
      'a path as identifier',
      { ...valid, identifiers: ['../../etc/passwd'] },
      'identifiers.0: must be a catalogue identifier',
    ],
    ['a repeated identifier', { ...valid, identifiers: ['A', 'A'] }, 'identifiers: must not repeat an identifier'],
    ['an empty name', { ...valid, name: '' }, 'name: must not be empty'],
    ['a misspelt field', { ...valid, identifer: ['x'] }, 'Unrecognized key: "identifer"'],
    ['a sink with ..', { ...valid, output: { storage: 'TEMPORARY', sink: 'file:///data/../etc' } }, 'output.sink'],
    ['PRIVATE without endpoint', { ...valid, output: { storage: 'PRIVATE', target: 's3://b/p' } }, 'output.endpoint'],
    [
      'a malformed target',
      { ...valid, output: { ...privateOut, target: 'http://x' } },
      'output.target: must be an s3://bucket/prefix URL',
    ],
    [
      'an s3 sink without credentials',
      { ...valid, output: { storage: 'TEMPORARY', sink: 's3://bucket/p' } },
      'output.sinkCredentials: an s3:// sink needs "sinkCredentials"',
    ],
    [
      'a managed option',
      { ...valid, options: [{ name: 'desp_source_password', value: 'x' }] },
      'options.0.name: is set from "source" or "output", not by hand',
    ],
    [
      'inverted intervals',
      { ...valid, polling: { initialInterval: '1h', maxInterval: '1m' } },
      'polling.initialInterval: initialInterval must not exceed maxInterval',
    ],
    [
      'a deadline in words',
      { ...valid, polling: { deadline: 'tomorrow' } },
      'polling.deadline: deadline must be a duration',
    ],
    [
      'a task queue name with spaces',
      { ...valid, downloadTaskQueue: 'fast downloads' },
      'downloadTaskQueue: must be a task queue name',
    ],
    [
      'a secret instead of a reference',
      { ...valid, output: { ...privateOut, credentials: 'AKIA-SECRET/KEY' } },
      'output.credentials: must name a credential set',
    ],
  ])('refuses %s, naming the field', (_label, input, message) => {
    const parsed = parseHarvestRequest(input);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.join('\n')).toContain(message);
  });
});
