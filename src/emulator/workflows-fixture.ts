/**
 * The workflows the emulator offers (hook-api.md §6, names as in the 2025 README) and their option
 * definitions (§7.1 for data-harvest). Types, defaults and `Required` flags of the current option
 * set are not captured anywhere; the choices below are the emulator's, and clients validate orders
 * against them:
 * - enum-like options carry their allowed values in `Value` (`output_storage`, `source_type`,
 *   `source_catalogue_api_type`, `card_producttype`);
 * - `Required: true` only where an order cannot work without the option whatever else it says:
 *   `source_type` for data-harvest, `card_producttype` and `timespan` for card_cohinf;
 * - conditional requirements (`output_s3_*` with PRIVATE, `desp_source_*` with DESP, catalogue
 *   options with EXTERNAL) are enforced when the order is created, with a message naming the option.
 */

export interface WorkflowOptionDef {
  Name: string;
  Description: string;
  Type: string;
  Default: string | number | null;
  Value: string[] | null;
  Required: boolean;
}

export interface WorkflowDef {
  Id: string;
  Uuid: null;
  Name: string;
  DisplayName: string;
  Documentation: string | null;
  Description: string | null;
  InputProductType: string | null;
  InputProductTypes: string[];
  OutputProductType: string | null;
  OutputProductTypes: string[];
  WorkflowVersion: string;
  WorkflowOptions: WorkflowOptionDef[];
  CustomInputSource: boolean;
  InputProductStatusOffline: boolean;
}

const opt = (
  Name: string,
  Description: string,
  more: Partial<Omit<WorkflowOptionDef, 'Name' | 'Description'>> = {},
): WorkflowOptionDef => ({ Name, Description, Type: 'str', Default: null, Value: null, Required: false, ...more });

const outputOptions = (): WorkflowOptionDef[] => [
  opt('output_storage', 'Output storage type - PRIVATE or TEMPORARY. PRIVATE requires s3 config (output_s3_*)', {
    Type: 'CustomOutputStorageType',
    Default: 'PRIVATE',
    Value: ['PRIVATE', 'TEMPORARY'],
  }),
  opt('output_s3_access_key', 'Access key of the output S3 bucket (PRIVATE storage)'),
  opt('output_s3_secret_key', 'Secret key of the output S3 bucket (PRIVATE storage)'),
  opt('output_s3_path', 'Output location as s3://<bucket>/<prefix> (PRIVATE storage)'),
  opt('output_s3_endpoint_url', 'Endpoint URL of the output S3 service (PRIVATE storage)'),
];

const sourceOptions = (sourceRequired: boolean): WorkflowOptionDef[] => [
  opt('source_type', "Source type - one from ['DESP', 'EXTERNAL']", {
    Type: 'SourceType',
    Value: ['DESP', 'EXTERNAL'],
    Required: sourceRequired,
  }),
  opt('desp_source_username', 'DESP username or e-mail used to read the input from HDA (source_type DESP)'),
  opt('desp_source_password', 'DESP password (source_type DESP)'),
  opt('desp_source_collection', 'HDA collection id of the input items (source_type DESP)'),
  opt('source_catalogue_api_url', 'Root URL of the source catalogue (source_type EXTERNAL)'),
  opt('source_catalogue_api_type', "Catalogue type: one from ['STAC']", {
    Type: 'CatalogueType',
    Default: 'STAC',
    Value: ['STAC'],
  }),
  opt('source_catalogue_collection', 'Collection id in the source catalogue (source_type EXTERNAL)'),
  opt('source_token_url', 'OIDC token URL of the source catalogue (source_type EXTERNAL)'),
  opt('source_grant_type', 'OIDC grant type used with source_token_url (source_type EXTERNAL)', {
    Default: 'PASSWORD',
  }),
  opt('source_auth_header_name', 'Header carrying the source bearer token (source_type EXTERNAL)', {
    Default: 'Authorization',
  }),
  opt('source_username', 'User name at the source identity provider (source_type EXTERNAL)'),
  opt('source_password', 'Password at the source identity provider (source_type EXTERNAL)'),
  opt('source_client_id', 'OIDC client id at the source identity provider (source_type EXTERNAL)'),
  opt('source_client_secret', 'OIDC client secret, empty for public clients (source_type EXTERNAL)'),
];

const workflow = (
  w: Pick<WorkflowDef, 'Id' | 'Name' | 'DisplayName' | 'WorkflowVersion'> & Partial<WorkflowDef>,
): WorkflowDef => ({
  Uuid: null,
  Documentation: null,
  Description: null,
  InputProductType: null,
  InputProductTypes: [],
  OutputProductType: null,
  OutputProductTypes: [],
  WorkflowOptions: [...outputOptions(), ...sourceOptions(false)],
  CustomInputSource: false,
  InputProductStatusOffline: false,
  ...w,
});

/** The workflow list, ordered by Id. */
export function workflowsFixture(): WorkflowDef[] {
  return [
    workflow({
      Id: '2',
      Name: 'lai',
      DisplayName: 'Sentinel-2: SNAP-Biophysical',
      WorkflowVersion: '1.1.1',
      InputProductType: 'S2MSI2A',
      InputProductTypes: ['S2MSI2A'],
      OutputProductType: 'LAI',
      OutputProductTypes: ['LAI'],
    }),
    workflow({ Id: '3', Name: 'odp-test', DisplayName: 'ODP Test', WorkflowVersion: '1.0.0' }),
    workflow({
      Id: '4',
      Name: 'card_bs',
      DisplayName: 'Sentinel-1: Terrain-corrected backscatter',
      WorkflowVersion: '3.6.2',
      InputProductType: 'GRD',
      InputProductTypes: ['GRD', 'IW_GRDH_1S', 'EW_GRDH_1S', 'WV_GRDM_1S', 'IW_GRDH_1S-COG', 'EW_GRDM_1S-COG'],
      OutputProductType: 'CARD-BS',
      OutputProductTypes: ['CARD-BS'],
    }),
    workflow({
      Id: '5',
      Name: 'card_cohinf',
      DisplayName: 'Sentinel-1 Coherence/Interferometry',
      WorkflowVersion: '1.0.0',
      InputProductType: 'SLC',
      InputProductTypes: [
        'SLC',
        'S1_SLC__1S',
        'S2_SLC__1S',
        'S3_SLC__1S',
        'S4_SLC__1S',
        'S5_SLC__1S',
        'S6_SLC__1S',
        'IW_SLC__1S',
        'EW_SLC__1S',
        'WV_SLC__1S',
      ],
      OutputProductType: 'CARD-COH',
      OutputProductTypes: ['CARD-COH', 'CARD-INF'],
      WorkflowOptions: [
        ...outputOptions(),
        ...sourceOptions(false),
        opt('card_producttype', "Output product type - one from ['CARD_COH', 'CARD_INF']", {
          Type: 'CardProductType',
          Value: ['CARD_COH', 'CARD_INF'],
          Required: true,
        }),
        opt('timespan', 'Time span in days to look for the secondary product', { Type: 'int', Required: true }),
      ],
    }),
    workflow({
      Id: '6',
      Name: 'c2rcc',
      DisplayName: 'Sentinel-2: C2RCC',
      WorkflowVersion: '1.1.1',
      InputProductType: 'S2MSI1C',
      InputProductTypes: ['S2MSI1C', 'OL_2_LFR___', 'OL_2_LRR___', 'OL_2_WFR___', 'OL_2_WRR___'],
      OutputProductType: 'C2RCC',
      OutputProductTypes: ['C2RCC'],
    }),
    workflow({
      Id: '7',
      Name: 'sen2cor',
      DisplayName: 'Sentinel-2: Sen2Cor',
      WorkflowVersion: '2.10.0',
      InputProductType: 'S2MSI1C',
      InputProductTypes: ['S2MSI1C'],
      OutputProductType: 'S2MSI2A',
      OutputProductTypes: ['S2MSI2A'],
    }),
    workflow({
      Id: '8',
      Name: 'copdem',
      DisplayName: 'Copernicus DEM Mosaic',
      WorkflowVersion: '1.0',
      InputProductType: '*',
      InputProductTypes: ['*'],
    }),
    workflow({
      Id: '9',
      Name: 'maja',
      DisplayName: 'Sentinel-2: MAJA Atmospheric Correction',
      WorkflowVersion: '3.0.1',
      InputProductType: 'S2MSI1C',
      InputProductTypes: ['S2MSI1C'],
      OutputProductType: 'S2MSI2A',
      OutputProductTypes: ['S2MSI2A'],
      WorkflowOptions: [
        ...outputOptions(),
        ...sourceOptions(false),
        opt('input_type', 'Input selection mode, e.g. TIMESPAN'),
        opt('timeseries_end_id', 'Identifier of the last product of the time series'),
        opt('timespan', 'Length of the time series in days', { Type: 'int' }),
      ],
    }),
    workflow({
      Id: '10',
      Name: 'dedl_hello_world',
      DisplayName: 'DEDL Hello World',
      WorkflowVersion: '1.1.0',
      InputProductType: '*',
      InputProductTypes: ['*'],
      WorkflowOptions: [
        ...outputOptions(),
        ...sourceOptions(false),
        opt('source_s3_path', 'Input location as s3://<bucket>/<folder> containing example.data'),
        opt('source_s3_endpoint_url', 'Endpoint URL of the input S3 service'),
        opt('source_s3_access_key', 'Access key of the input S3 bucket'),
        opt('source_s3_secret_key', 'Secret key of the input S3 bucket'),
      ],
    }),
    workflow({
      Id: '11',
      Name: 'data-harvest',
      DisplayName: 'Data harvest',
      WorkflowVersion: '0.0.1',
      CustomInputSource: true,
      WorkflowOptions: [...outputOptions(), ...sourceOptions(true)],
    }),
    workflow({ Id: '44', Name: 'datacube_loader', DisplayName: 'DataCube Loader', WorkflowVersion: '0.1.0' }),
  ];
}

/** Options whose values are never echoed back (`*password*`, `*secret*`). */
export function isSecretOption(name: string): boolean {
  return /password|secret/i.test(name);
}

/** The workflow entity as the API returns it (fields in the captured order), with or without its option definitions. */
export function workflowEntity(w: WorkflowDef, expandOptions: boolean): Record<string, unknown> {
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
    ...(expandOptions ? { WorkflowOptions: w.WorkflowOptions } : {}),
    CustomInputSource: w.CustomInputSource,
    InputProductStatusOffline: w.InputProductStatusOffline,
  };
}
