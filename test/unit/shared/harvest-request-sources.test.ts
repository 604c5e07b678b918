/**
 * The request's source decides what else it needs: a catalogue source (DESP, EXTERNAL) needs a
 * collection and catalogue identifiers; a custom hook's S3 folder or no source at all (copdem,
 * maja) takes free-form identifiers and no collection. Every problem names its field.
 */
import { parseHarvestRequest } from '../../../src/shared/harvest-request';

const base = { name: 'sources', output: { storage: 'TEMPORARY', sink: 'file:///tmp/out' } };
const problemsOf = (input: object) => {
  const parsed = parseHarvestRequest(input);
  return parsed.ok ? [] : parsed.problems;
};

describe('harvest request sources', () => {
  it('a DESP source (the default) needs a collection and catalogue identifiers', () => {
    expect(problemsOf({ ...base, identifiers: ['Custom Hook'] })).toEqual([
      'collection: is required: the source reads products of a catalogue collection',
      'identifiers.0: must be a catalogue identifier (letters, digits, dot, dash, underscore)',
    ]);
  });

  it('no source: no collection, free-form identifiers', () => {
    const parsed = parseHarvestRequest({
      ...base,
      workflow: 'maja',
      source: { type: 'NONE' },
      identifiers: ['Custom Hook'],
    });
    expect(parsed.ok && parsed.request.collection).toBeUndefined();
    expect(parsed.ok).toBe(true);
  });

  it('an S3 source names its folder, endpoint and credential set', () => {
    expect(
      problemsOf({ ...base, workflow: 'dedl_hello_world', source: { type: 'S3', path: 'input' }, identifiers: ['x'] }),
    ).toEqual(
      expect.arrayContaining([expect.stringMatching(/^source\.path: /), expect.stringMatching(/^source\.endpoint: /)]),
    );
  });

  it.each(['a/b', '..', 'quote"d', 'tab\there'])('refuses %j as a free-form identifier', (id) => {
    expect(problemsOf({ ...base, source: { type: 'NONE' }, identifiers: [id] })).toEqual([
      'identifiers.0: must not contain / \\ quotes or control characters',
    ]);
  });

  it('reports the identifier problems together with the other fields', () => {
    expect(
      problemsOf({ ...base, name: '', source: { type: 'FTP' }, identifiers: ['bad id'] }).map((p) => p.split(':')[0]),
    ).toEqual(expect.arrayContaining(['name', 'source.type', 'identifiers.0']));
  });
});
