/**
 * Workflow entities and the data-harvest option definitions exactly as the real Hook recorded them
 * (test/fixtures/real/hook-workflows-*.json, DestinE-DataLake-Lab notebooks), field for field.
 * Transcribed from those fixtures (one-off); the contract tests keep the emulator's answers equal in shape.
 */

/** An option definition as the Hook serves it (allowed values rendered per dialect by workflows-fixture.ts). */
export interface WorkflowOptionDef {
  Name: string;
  Description: string;
  Type: string;
  Default: string | number | null;
  /** Allowed values (null: any); rendered per dialect. */
  Value: string[] | null;
  Required: boolean;
}
export type RecordedOptionDef = WorkflowOptionDef;

export interface RecordedWorkflow {
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
  CustomInputSource: boolean;
  InputProductStatusOffline: boolean;
}

/** `GET Workflows?$orderby=Id asc`, 2024-09-02 (Tutorial.ipynb at b25ffcd). */
export const WORKFLOWS_2024_09: readonly RecordedWorkflow[] = [
  {
    Id: '1',
    Uuid: null,
    Name: 'card_bs',
    DisplayName: 'Sentinel-1: Terrain-corrected backscatter',
    Documentation: '',
    Description:
      'Sentinel-1 CARD BS (Copernicus Analysis Ready Data Backscatter) processor generates terrain-corrected geocoded Sentinel-1 Level 2 backscattering by removing the radiometric effect imposed by relief (provided by DEM). This allows comparability of images, e.g. for analysis of changes in land cover. This processor provided by the Joint Research Centre is based on a GPT graph that can be run with ESA SNAP.',
    InputProductType: 'GRD',
    InputProductTypes: [
      'GRD',
      'IW_GRDH_1S',
      'IW_GRDM_1S',
      'EW_GRDH_1S',
      'EW_GRDM_1S',
      'WV_GRDM_1S',
      'GRD-COG',
      'IW_GRDH_1S-COG',
      'IW_GRDM_1S-COG',
      'EW_GRDH_1S-COG',
      'EW_GRDM_1S-COG',
      'WV_GRDM_1S-COG',
    ],
    OutputProductType: 'CARD-BS',
    OutputProductTypes: ['CARD-BS'],
    WorkflowVersion: '3.6.2',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '2',
    Uuid: null,
    Name: 'lai',
    DisplayName: 'Sentinel-2: SNAP-Biophysical',
    Documentation: '',
    Description:
      'The SNAP-BIOPHYSICAL processor derives vegetation biophysical variables based on top-of-canopy spectral reflectances from Sentinel-2 data. Following the approach described by Weiss et al. (2000, DOI: 10.1051/agro:2000105), the processor estimates: LAI (Leaf Area Index), FAPAR (Fraction of Absorbed Photosynthetically Active Radiation) and FVC (Fractional Vegetation Cover), all recognized as Essential Climate Variables (ECVs) by international organizations such as the Global Climate Observing System (GCOS)',
    InputProductType: 'S2MSI2A',
    InputProductTypes: ['S2MSI2A'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '3',
    Uuid: null,
    Name: 'odp-test',
    DisplayName: 'ODP Test',
    Documentation: null,
    Description: null,
    InputProductType: null,
    InputProductTypes: [],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '5',
    Uuid: null,
    Name: 'card_cohinf',
    DisplayName: 'Sentinel-1 Coherence/Interferometry',
    Documentation: null,
    Description:
      'The Sentinel-1 CARD COH-INF (Copernicus Analysis Ready Data Coherence/Interferometry) processor generates a Sentinel-1 product form SLC product type. Concurrently, a terrain-correction (using DEM) is performed. This processor provided by the Joint Research Centre is based on a GPT graph that can be run with ESA SNAP.',
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
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '6',
    Uuid: null,
    Name: 'c2rcc',
    DisplayName: 'Sentinel-2: C2RCC',
    Documentation: null,
    Description:
      'The C2RCC (Case 2 Regional Coast Colour) processor allows water constituents in coastal or inland water bodies to be derived from optical satellite data. The processor uses a database of radiative transfer simulations inverted by neural networks. It can be applied to all past and current ocean colour sensors as well as Sentinel-2 imagery. It has been validated in various studies and is also implemented in SNAP. It is also used in the Sentinel 3 OLCI ground segment processor for the generation of the Case 2 water products.',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C', 'OL_2_LFR___', 'OL_2_LRR___', 'OL_2_WFR___', 'OL_2_WRR___'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '8',
    Uuid: null,
    Name: 'copdem',
    DisplayName: 'Copernicus DEM Mosaic',
    Documentation: null,
    Description:
      'The CopDEM workflow first searches the catalogue for products that intersect the input product geometry and are of product type DGE_30. The processor then executes SNAP/GDAL methods and generates input products into the output dem.tif file.',
    InputProductType: '*',
    InputProductTypes: ['*'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '10',
    Uuid: null,
    Name: 'dedl_hello_world',
    DisplayName: 'DEDL Hello World',
    Documentation: null,
    Description: 'DEDL Hello World processor',
    InputProductType: '*',
    InputProductTypes: ['*'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '11',
    Uuid: null,
    Name: 'data-harvest',
    DisplayName: 'Data harvest',
    Documentation: null,
    Description:
      'Data-harvest is a workflow allows to download data from external sources. It requires URL to the external catalogue, credentials and data to download. The workflow is mainly used to download data from HDA (https://hda.data.destination-earth.eu/) using STAC.',
    InputProductType: null,
    InputProductTypes: [],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '0.0.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '45',
    Uuid: null,
    Name: 'sen2cor',
    DisplayName: 'Sentinel-2: Sen2Cor',
    Documentation: null,
    Description:
      'The Sen2Cor processor generates Sentinel-2 Level 2A product (Bottom-Of-Atmosphere reflectances) by performing the atmospheric, terrain and cirrus correction of Top-Of-Atmosphere Level 1C input data. In addition, Aerosol Optical Thickness, Water Vapor, Scene Classification Maps and Quality Indicators for cloud and snow probabilities can be generated. The Sen2Cor products are in the equivalent format to the Level 1C User Product: JPEG 2000 images, preserving the original band spatial resolutions, i.e. 10, 20 and 60 meters.',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '2.10.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '46',
    Uuid: null,
    Name: 'maja',
    DisplayName: 'Sentinel-2: MAJA Atmospheric Correction',
    Documentation: null,
    Description:
      'The Sentinel-2 L2A MAJA (The MACCS-ATCOR Joint Algorithm) is a processor for generation of Bottom-of-Atmoshere reflectances of Sentinel-2 imagery. It builds on MACCS (Multi-sensor Atmospheric Correction and Cloud Screening) developed by CNES and CESBIO, and features from ATCOR (Atmospheric and Topographic Correction) developed by the German Aerospace Centre (DLR).  It performs atmospheric correction, cloud and cloud shadow masking, and topographic correction. For atmospheric correction, MAJA retrieves  aerosol optical thickness from  multi-temporal data assuming the relative stability of surface reflectances with time (within a few days), compared to the high variability of AOT (which can change hourly). That is why MAJA operates on a series of Sentinel-2 images rather than a single image. MAJA can also use information on AOT from Copernicus Atmosphere Monitoring Service (CAMS).',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '3.0.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
];

/** `GET Workflows`, 2024-06-06 (DEDL-Hook_access.ipynb at 4645044): the `_private` names of the spring 2024 service. */
export const WORKFLOWS_2024_06: readonly RecordedWorkflow[] = [
  {
    Id: '2',
    Uuid: null,
    Name: 'lai',
    DisplayName: 'Sentinel-2: SNAP-Biophysical',
    Documentation: '',
    Description:
      'The SNAP-BIOPHYSICAL processor derives vegetation biophysical variables based on top-of-canopy spectral reflectances from Sentinel-2 data. Following the approach described by Weiss et al. (2000, DOI: 10.1051/agro:2000105), the processor estimates: LAI (Leaf Area Index), FAPAR (Fraction of Absorbed Photosynthetically Active Radiation) and FVC (Fractional Vegetation Cover), all recognized as Essential Climate Variables (ECVs) by international organizations such as the Global Climate Observing System (GCOS)',
    InputProductType: 'S2MSI2A',
    InputProductTypes: ['S2MSI2A'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '4',
    Uuid: null,
    Name: 'card_bs_private',
    DisplayName: 'Sentinel-1: Terrain-corrected backscatter (Private)',
    Documentation: '',
    Description:
      'Sentinel-1 CARD BS (Copernicus Analysis Ready Data Backscatter) processor generates terrain-corrected geocoded Sentinel-1 Level 2 backscattering by removing the radiometric effect imposed by relief (provided by DEM). This allows comparability of images, e.g. for analysis of changes in land cover. This processor provided by the Joint Research Centre is based on a GPT graph that can be run with ESA SNAP.',
    InputProductType: 'GRD',
    InputProductTypes: [
      'GRD',
      'IW_GRDH_1S',
      'IW_GRDM_1S',
      'EW_GRDH_1S',
      'EW_GRDM_1S',
      'WV_GRDM_1S',
      'GRD-COG',
      'IW_GRDH_1S-COG',
      'IW_GRDM_1S-COG',
      'EW_GRDH_1S-COG',
      'EW_GRDM_1S-COG',
      'WV_GRDM_1S-COG',
    ],
    OutputProductType: 'CARD-BS',
    OutputProductTypes: ['CARD-BS'],
    WorkflowVersion: '3.6.2',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '5',
    Uuid: null,
    Name: 'card_cohinf',
    DisplayName: 'Sentinel-1 Coherence/Interferometry',
    Documentation: null,
    Description: null,
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
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '8',
    Uuid: null,
    Name: 'copdem',
    DisplayName: 'Copernicus DEM Mosaic',
    Documentation: null,
    Description: '',
    InputProductType: '*',
    InputProductTypes: ['*'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '9',
    Uuid: null,
    Name: 'maja_private',
    DisplayName: 'Sentinel-2: MAJA Atmospheric Correction',
    Documentation: null,
    Description: '',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '3.0.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '6',
    Uuid: null,
    Name: 'c2rcc',
    DisplayName: 'Sentinel-2: C2RCC',
    Documentation: null,
    Description:
      'The C2RCC (Case 2 Regional Coast Colour) processor allows water constituents in coastal or inland water bodies to be derived from optical satellite data. The processor uses a database of radiative transfer simulations inverted by neural networks. It can be applied to all past and current ocean colour sensors as well as Sentinel-2 imagery. It has been validated in various studies and is also implemented in SNAP. It is also used in the Sentinel 3 OLCI ground segment processor for the generation of the Case 2 water products.',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C', 'OL_2_LFR___', 'OL_2_LRR___', 'OL_2_WFR___', 'OL_2_WRR___'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.1',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '11',
    Uuid: null,
    Name: 'data-harvest',
    DisplayName: 'Data harvest',
    Documentation: null,
    Description: null,
    InputProductType: null,
    InputProductTypes: [],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '0.0.1',
    CustomInputSource: true,
    InputProductStatusOffline: false,
  },
  {
    Id: '3',
    Uuid: null,
    Name: 'odp-test',
    DisplayName: 'ODP Test',
    Documentation: null,
    Description: null,
    InputProductType: null,
    InputProductTypes: [],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.0.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '10',
    Uuid: null,
    Name: 'dedl_hello_world',
    DisplayName: 'DEDL Hello World',
    Documentation: null,
    Description: 'DEDL Hello World processor',
    InputProductType: '*',
    InputProductTypes: ['*'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '1.1.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
  {
    Id: '7',
    Uuid: null,
    Name: 'sen2cor_private',
    DisplayName: 'Sentinel-2: Sen2Cor',
    Documentation: null,
    Description:
      'The Sen2Cor processor generates Sentinel-2 Level 2A product (Bottom-Of-Atmosphere reflectances) by performing the atmospheric, terrain and cirrus correction of Top-Of-Atmosphere Level 1C input data. In addition, Aerosol Optical Thickness, Water Vapor, Scene Classification Maps and Quality Indicators for cloud and snow probabilities can be generated. The Sen2Cor products are in the equivalent format to the Level 1C User Product: JPEG 2000 images, preserving the original band spatial resolutions, i.e. 10, 20 and 60 meters.',
    InputProductType: 'S2MSI1C',
    InputProductTypes: ['S2MSI1C'],
    OutputProductType: null,
    OutputProductTypes: [],
    WorkflowVersion: '2.10.0',
    CustomInputSource: false,
    InputProductStatusOffline: false,
  },
];

/** data-harvest's `WorkflowOptions`, 2024-09-02: 19 options, 17 `Required` (advisory: orders with 5 were accepted). */
export const DATA_HARVEST_OPTIONS_2024_09: readonly RecordedOptionDef[] = [
  {
    Name: 'output_storage',
    Description:
      "Output storage type, with viable values being: 'PRIVATE', 'TEMPORARY'. If equal to 'PRIVATE' then all 'output_s3_*' parameters are required.",
    Type: 'str',
    Default: null,
    Value: ['PRIVATE', 'TEMPORARY'],
    Required: true,
  },
  {
    Name: 'output_s3_endpoint_url',
    Description:
      "URL to s3endpoint where the output should be stored. Use only when 'output_storage' is equal to 'PRIVATE'.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'output_s3_access_key',
    Description:
      "Access key to your s3endpoint provided in 's3_endpoint_url'. Use only when 'output_storage' is equal to 'PRIVATE'.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'output_s3_secret_key',
    Description:
      "Secret key to your s3endpoint provided in 's3_endpoint_url'. Use only when 'output_storage' is equal to 'PRIVATE'.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'output_s3_path',
    Description:
      "The path (with bucket and prefix, in format s3://bucket/prefix) in your s3 storage, where the output should be stored. Use only when 'output_storage' is equal to 'PRIVATE'.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_type',
    Description:
      "The type of input source. Available values are: 'DESP' (DESP auth in DEDL, requires 'desp_source_*' options), 'EXTERNAL' (external catalogue, requires 'source_*' options) (default: EXTERNAL).",
    Type: 'str',
    Default: 'EXTERNAL',
    Value: ['DESP', 'EXTERNAL'],
    Required: true,
  },
  {
    Name: 'source_catalogue_api_url',
    Description:
      "Url to the external catalogue. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_catalogue_api_type',
    Description:
      "API type in external catalogue. Viable values are: . Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: ['STAC', 'ODATA'],
    Required: true,
  },
  {
    Name: 'source_token_url',
    Description:
      "Token url used to authenticate in external catalogue. It should be the full url with the realm (e.g. https://identity.data.destination-earth.eu/auth/realms/dedl/protocol/openid-connect/token). Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_grant_type',
    Description:
      "Grant type used to authenticate in external catalogue. One of: 'PASSWORD', 'CLIENT_CREDENTIALS'. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. (default: PASSWORD).",
    Type: 'str',
    Default: 'PASSWORD',
    Value: ['PASSWORD', 'CLIENT_CREDENTIALS'],
    Required: true,
  },
  {
    Name: 'source_auth_header_name',
    Description:
      "Header used to authenticate in external catalogue. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. (default: 'Authorization').",
    Type: 'str',
    Default: 'Authorization',
    Value: null,
    Required: true,
  },
  {
    Name: 'source_username',
    Description:
      "Username used to authenticate in external catalogue. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_password',
    Description:
      "Password used to authenticate in external catalogue. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_client_id',
    Description:
      "Client id used to authenticate in external catalogue. Required with other 'source_*' options when 'source_type' is equal to 'EXTERNAL'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'source_client_secret',
    Description:
      "Client secret used to authenticate in external catalogue. Available when 'source_type' is equal to to 'EXTERNAL'. If not provided, usually empty string is used when authenticating.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: false,
  },
  {
    Name: 'source_catalogue_collection',
    Description:
      "Collection name in external catalogue. Available when 'source_type' is equal to to 'EXTERNAL' and required when'source_catalogue_api_type' is equal to to 'STAC'.",
    Type: 'str',
    Default: null,
    Value: null,
    Required: false,
  },
  {
    Name: 'desp_source_username',
    Description:
      "Username to DESP service. Usable only in DEDL project. Required with other 'desp_*' options when 'source_type' is equal to 'DESP'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'desp_source_password',
    Description:
      "Password to DESP service. Usable only in DEDL project. Required with other 'desp_*' options when 'source_type' is equal to 'DESP'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
  {
    Name: 'desp_source_collection',
    Description:
      "Collection name to DESP service. Usable only in DEDL project. Required with other 'desp_*' options when 'source_type' is equal to 'DESP'. ",
    Type: 'str',
    Default: null,
    Value: null,
    Required: true,
  },
];
