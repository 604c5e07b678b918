import { annotateProblems, parseAdditionalOption, requestFromTutorialEnv } from '../../../src/client/tutorial-env';
import { parseHarvestRequest } from '../../../src/shared/harvest-request';

const OPTIONS = { sink: 'file:///data/out', outputCredentials: 'islet', sourceCredentials: 'external' };

describe('the tutorial HOOK_* variables as a harvest request', () => {
  it("maps the tutorial's defaults to a valid TEMPORARY request with DESP source", () => {
    const { request, notes } = requestFromTutorialEnv({}, OPTIONS);
    expect(request).toEqual({
      name: 'tutorial',
      workflow: 'data-harvest',
      collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
      identifiers: ['S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE'],
      source: { type: 'DESP' },
      output: { storage: 'TEMPORARY', sink: 'file:///data/out' },
    });
    expect(notes).toEqual(['HOOK_ORDER_NAME is not set: the harvest is named "tutorial"']);
    expect(parseHarvestRequest(request).ok).toBe(true);
  });

  it('splits HOOK_DATA_ID on commas and trims, like the notebook', () => {
    const { request } = requestFromTutorialEnv(
      {
        HOOK_ORDER_NAME: 'alps',
        HOOK_COLLECTION_ID: 'EO.ESA.DAT.SENTINEL-1.L1_GRD',
        HOOK_DATA_ID: ' A_1.SAFE, B_2.SAFE ,C_3 ,',
      },
      OPTIONS,
    );
    expect(request.identifiers).toEqual(['A_1.SAFE', 'B_2.SAFE', 'C_3']);
    expect(request.collection).toBe('EO.ESA.DAT.SENTINEL-1.L1_GRD');
    expect(request.name).toBe('alps');
  });

  it('maps PRIVATE storage to bucket, the notebook prefix and a credential set, never the keys', () => {
    const env = {
      HOOK_ORDER_NAME: 'nightly',
      HOOK_IS_PRIVATE_STORAGE: 'True',
      HOOK_OUTPUT_BUCKET: 'my-bucket',
      HOOK_OUTPUT_STORAGE_ACCESS_KEY: 'AKIAEXAMPLEKEY',
      HOOK_OUTPUT_STORAGE_SECRET_KEY: 's3cr3t-value-never-in-a-request',
    };
    const { request, notes } = requestFromTutorialEnv(env, OPTIONS);
    expect(request.output).toEqual({
      storage: 'PRIVATE',
      target: 's3://my-bucket/dedl-data-harvest-nightly',
      endpoint: 'https://s3.central.data.destination-earth.eu',
      credentials: 'islet',
    });
    const serialised = JSON.stringify(request);
    expect(serialised).not.toContain('AKIAEXAMPLEKEY');
    expect(serialised).not.toContain('s3cr3t');
    expect(notes.join('\n')).toContain(
      'DEDL_CREDENTIALS_ISLET_ACCESS_KEY_ID and DEDL_CREDENTIALS_ISLET_SECRET_ACCESS_KEY',
    );
    expect(notes.join('\n')).not.toContain('s3cr3t');
    expect(parseHarvestRequest(request).ok).toBe(true);
  });

  it('treats anything but "True" as TEMPORARY, as the notebook does', () => {
    for (const value of ['true', 'TRUE', '1', 'False']) {
      expect(requestFromTutorialEnv({ HOOK_IS_PRIVATE_STORAGE: value }, OPTIONS).request.output.storage).toBe(
        'TEMPORARY',
      );
    }
  });

  it('maps an EXTERNAL source with its token URL and client id; the password stays with the worker', () => {
    const { request, notes } = requestFromTutorialEnv(
      {
        HOOK_SOURCE_TYPE: 'EXTERNAL',
        HOOK_EXTERNAL_TOKEN_URL: 'https://idp.example.org/token',
        HOOK_EXTERNAL_CLIENT_ID: 'hda-public',
        HOOK_EXTERNAL_USERNAME: 'someone',
        HOOK_EXTERNAL_PASSWORD: 'pa55word-not-sent',
      },
      OPTIONS,
    );
    expect(request.source).toEqual({
      type: 'EXTERNAL',
      catalogueUrl: 'https://hda.data.destination-earth.eu/stac',
      catalogueType: 'STAC',
      tokenUrl: 'https://idp.example.org/token',
      grantType: 'PASSWORD',
      clientId: 'hda-public',
      credentials: 'external',
    });
    expect(JSON.stringify(request)).not.toContain('pa55word');
    expect(notes.join('\n')).toContain('DEDL_CREDENTIALS_EXTERNAL_USERNAME and DEDL_CREDENTIALS_EXTERNAL_PASSWORD');
  });

  it('reads HOOK_ADDITIONAL* options (str and int), in variable order', () => {
    const { request, notes } = requestFromTutorialEnv(
      {
        HOOK_ADDITIONAL2: 'NAME=timespan;VALUE=12;TYPE=int',
        HOOK_ADDITIONAL1: 'NAME=input_type;VALUE=TIMESPAN;TYPE=str',
        HOOK_ADDITIONAL3: 'garbage',
      },
      OPTIONS,
    );
    expect(request.options).toEqual([
      { name: 'input_type', value: 'TIMESPAN' },
      { name: 'timespan', value: 12 },
    ]);
    expect(notes).toContain(
      'HOOK_ADDITIONAL3 is not of the form NAME=<option>;VALUE=<value>;TYPE=str|int and was ignored',
    );
    expect(parseAdditionalOption('NAME=a;VALUE=x')).toEqual({ name: 'a', value: 'x' });
  });

  it('names the variable behind a refused field', () => {
    const mapping = requestFromTutorialEnv({ HOOK_DATA_ID: 'bad id with spaces', HOOK_SOURCE_TYPE: 'FTP' }, OPTIONS);
    const parsed = parseHarvestRequest(mapping.request);
    expect(parsed.ok).toBe(false);
    const problems = annotateProblems(parsed.ok ? [] : parsed.problems, mapping.origins);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^identifiers\.0: .*\(from HOOK_DATA_ID\)$/),
        expect.stringMatching(/^source.type: .*\(from HOOK_SOURCE_TYPE\)$/),
      ]),
    );
  });
});
