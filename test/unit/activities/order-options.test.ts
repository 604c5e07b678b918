/**
 * The option check before ordering, against the option definitions the real Hook recorded
 * (test/fixtures/real): refuses only what is certainly wrong, derives requirements from the rules
 * the descriptions state, never from the `Required` flags.
 */
import { buildOrderOptions, checkOptions } from '../../../src/activities/order-options';
import { type WorkflowOptionDef, listOf, workflowSchema } from '../../../src/hook/schemas';
import { type HarvestRequest, harvestRequestSchema } from '../../../src/shared/harvest-request';
import { fixture } from '../../helpers/real-fixtures';

const definitionsOf = (name: string): WorkflowOptionDef[] =>
  listOf(workflowSchema).parse(fixture(name).body).value[0]!.WorkflowOptions!;
const SEP_2024 = definitionsOf('hook-workflows-data-harvest-2024-09-02');

const request = (more: Record<string, unknown> = {}): HarvestRequest =>
  harvestRequestSchema.parse({
    name: 'check',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    identifiers: ['S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE'],
    output: { storage: 'TEMPORARY', sink: 'file:///tmp/out' },
    ...more,
  });

const PRIVATE = {
  storage: 'PRIVATE',
  target: 's3://bucket/prefix',
  endpoint: 'https://s3.example.org',
  credentials: 'islet',
};
const EXTERNAL = {
  type: 'EXTERNAL',
  catalogueUrl: 'https://hda.data.destination-earth.eu/stac',
  tokenUrl: 'https://identity.example.org/auth/realms/dedl/protocol/openid-connect/token',
  credentials: 'desp',
};

describe('checkOptions against the Sep-2024 data-harvest definitions', () => {
  it('reads the recorded definitions: 19 options, 17 of them Required, allowed values normalised', () => {
    expect(SEP_2024).toHaveLength(19);
    expect(SEP_2024.filter((d) => d.Required)).toHaveLength(17);
    const storage = SEP_2024.find((d) => d.Name === 'output_storage')!;
    expect(storage.Value).toEqual(['PRIVATE', 'TEMPORARY']);
    expect(storage.Choices).toEqual([
      { value: 'PRIVATE', condition: null },
      { value: 'TEMPORARY', condition: null },
    ]);
    expect(storage.Default).toBeNull();
  });

  it('accepts the TEMPORARY + DESP order the service accepted the same day (Required flags ignored)', () => {
    expect(checkOptions(request(), SEP_2024)).toEqual([]);
  });

  it('accepts PRIVATE output and an EXTERNAL source', () => {
    expect(checkOptions(request({ output: PRIVATE }), SEP_2024)).toEqual([]);
    expect(checkOptions(request({ source: EXTERNAL }), SEP_2024)).toEqual([]);
    expect(checkOptions(request({ source: { ...EXTERNAL, grantType: 'CLIENT_CREDENTIALS' } }), SEP_2024)).toEqual([]);
  });

  it('refuses an option the workflow does not list, naming the field', () => {
    expect(checkOptions(request({ options: [{ name: 'colour_depth', value: 8 }] }), SEP_2024)).toEqual([
      'options.0: the Hook workflow "data-harvest" has no option "colour_depth"',
    ]);
  });

  it('lets any option through when the workflow lists none (nothing is known)', () => {
    expect(checkOptions(request({ options: [{ name: 'colour_depth', value: 8 }] }), [])).toEqual([]);
  });
});

describe('checkOptions rules', () => {
  const def = (more: Partial<WorkflowOptionDef> & { Name: string }): WorkflowOptionDef => ({
    Description: null,
    Type: 'str',
    Default: null,
    Value: null,
    Choices: [],
    Required: false,
    ...more,
  });
  const base = SEP_2024;

  it('refuses a value outside a non-empty allowed list, accepts any value for an empty one', () => {
    const defs = [...base, def({ Name: 'mode', Value: ['A', 'B'] }), def({ Name: 'free', Value: null })];
    expect(checkOptions(request({ options: [{ name: 'mode', value: 'C' }] }), defs)).toEqual([
      'options.0: "C" is not one of "A", "B"',
    ]);
    expect(
      checkOptions(
        request({
          options: [
            { name: 'mode', value: 'B' },
            { name: 'free', value: 'x' },
          ],
        }),
        defs,
      ),
    ).toEqual([]);
  });

  it.each(['int', 'integer', 'Int64'])(
    'refuses a non-integer for a "%s" option, accepts integers and their text',
    (type) => {
      const defs = [...base, def({ Name: 'timespan', Type: type })];
      expect(checkOptions(request({ options: [{ name: 'timespan', value: '24h' }] }), defs)).toEqual([
        'options.0: must be an integer, not "24h"',
      ]);
      expect(checkOptions(request({ options: [{ name: 'timespan', value: 1.5 }] }), defs)).toHaveLength(1);
      expect(checkOptions(request({ options: [{ name: 'timespan', value: 24 }] }), defs)).toEqual([]);
      expect(checkOptions(request({ options: [{ name: 'timespan', value: '24' }] }), defs)).toEqual([]);
    },
  );

  it('does not refuse a missing option because its definition says Required', () => {
    const defs = [...base, def({ Name: 'must_have', Required: true })];
    expect(checkOptions(request(), defs)).toEqual([]);
  });

  it('PRIVATE requires every output_s3_* option', () => {
    const broken = { ...request({ output: PRIVATE }), output: { ...PRIVATE, target: '' } } as HarvestRequest;
    expect(checkOptions(broken, base)).toEqual([
      'option output_s3_path: output_storage PRIVATE requires option "output_s3_path"',
    ]);
  });

  it('DESP requires desp_source_*, EXTERNAL requires the source_* catalogue options', () => {
    const noCollection = { ...request(), collection: '' } as HarvestRequest;
    expect(checkOptions(noCollection, base)).toEqual([
      'option desp_source_collection: source_type DESP requires option "desp_source_collection"',
    ]);
    const external = request({ source: EXTERNAL });
    const noUrl = { ...external, source: { ...external.source, catalogueUrl: '' } } as HarvestRequest;
    expect(checkOptions(noUrl, base)).toEqual([
      'option source_catalogue_api_url: source_type EXTERNAL requires option "source_catalogue_api_url"',
    ]);
  });
});

describe('buildOrderOptions for workflows without a catalogue source', () => {
  const base = {
    name: 'hook',
    output: { storage: 'TEMPORARY', sink: 'file:///tmp/out' },
  };

  it('a custom hook reading an S3 folder gets source_s3_* (secrets only at submit time), no source_type', () => {
    const request = harvestRequestSchema.parse({
      ...base,
      workflow: 'dedl_hello_world',
      identifiers: ['Custom Hook'],
      source: { type: 'S3', path: 's3://input/folder', endpoint: 'https://s3.example.org', credentials: 'islet' },
    });
    expect(buildOrderOptions(request)).toEqual([
      { Name: 'output_storage', Value: 'TEMPORARY' },
      { Name: 'source_s3_path', Value: 's3://input/folder' },
      { Name: 'source_s3_endpoint_url', Value: 'https://s3.example.org' },
      { Name: 'source_s3_access_key', Value: '<secret>' },
      { Name: 'source_s3_secret_key', Value: '<secret>' },
    ]);
  });

  it('a hook that finds its input itself gets no source options at all', () => {
    const request = harvestRequestSchema.parse({
      ...base,
      workflow: 'copdem',
      identifiers: [
        'S3A_SL_1_RBT____20161110T022134_20161110T022434_20181003T070309_0179_010_374______LR1_R_NT_003.SEN3',
      ],
      source: { type: 'NONE' },
    });
    expect(buildOrderOptions(request)).toEqual([{ Name: 'output_storage', Value: 'TEMPORARY' }]);
  });
});
