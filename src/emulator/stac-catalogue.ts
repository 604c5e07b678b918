/**
 * The generated content of the emulator's STAC catalogue: the collections, and per mission
 * identifiers, sensing times and footprints that follow the real products' naming conventions,
 * between 2021-10 and 2024-12. Everything is derived from seeded PRNGs, never from the clock.
 */
import { createHash } from 'node:crypto';

/** A bounding box in degrees, as STAC writes it. */
export type Bbox = [west: number, south: number, east: number, north: number];

export const TUTORIAL_ITEM_ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
export const WINDOW_START = Date.UTC(2021, 9, 1);
export const WINDOW_END = Date.UTC(2024, 11, 31, 23, 59, 59);
const DAY_MS = 86_400_000;

/** The compact form an item is kept in; full items are built on demand. */
export interface ItemRecord {
  id: string;
  collection: string;
  start: number;
  end: number;
  ring: Ring;
  bbox: Bbox;
  properties: Record<string, string | number | string[]>;
  /** What a derived collection (L2A from L1C, SLC from GRD) needs to rebuild the identifier. */
  source: { satellite: string; tile?: S2Tile; discriminator?: number; orbit?: number; datatake?: string };
}

type Generator = (count: number, random: () => number, collection: (id: string) => ItemRecord[]) => ItemRecord[];

export interface CollectionDef {
  id: string;
  title: string;
  provider: 'ESA' | 'EUMETSAT';
  platforms: string[];
  instruments: string[];
  generate: Generator;
}

const S1_GRD = 'EO.ESA.DAT.SENTINEL-1.L1_GRD';
const S2_L1C = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

export const COLLECTIONS: CollectionDef[] = [
  def(S1_GRD, 'Sentinel-1 Level-1 Ground Range Detected', 'sentinel-1', 'c-sar', s1GrdItems),
  def('EO.ESA.DAT.SENTINEL-1.L1_SLC', 'Sentinel-1 Level-1 Single Look Complex', 'sentinel-1', 'c-sar', (_n, r, c) =>
    c(S1_GRD).map((grd) => s1SlcFromGrd(grd, r)),
  ),
  def(S2_L1C, 'Sentinel-2 MSI Level-1C top-of-atmosphere reflectance', 'sentinel-2', 'msi', s2L1cItems),
  def('EO.ESA.DAT.SENTINEL-2.MSI.L2A', 'Sentinel-2 MSI Level-2A surface reflectance', 'sentinel-2', 'msi', (_n, r, c) =>
    c(S2_L1C).map((l1c) => s2L2aFromL1c(l1c, r)),
  ),
  def('EO.EUM.DAT.SENTINEL-3.OL_1_EFR___', 'Sentinel-3 OLCI Level-1 Full Resolution', 'sentinel-3', 'olci', (n, r) =>
    s3Items(n, r, 'EFR'),
  ),
  def(
    'EO.EUM.DAT.SENTINEL-3.OL_2_WRR___',
    'Sentinel-3 OLCI Level-2 Water, Reduced Resolution',
    'sentinel-3',
    'olci',
    (n, r) => s3Items(n, r, 'WRR'),
  ),
];

function def(id: string, title: string, constellation: string, instrument: string, generate: Generator): CollectionDef {
  const provider = constellation === 'sentinel-3' ? 'EUMETSAT' : 'ESA';
  return {
    id,
    title,
    provider,
    platforms: [`${constellation}a`, `${constellation}b`],
    instruments: [instrument],
    generate,
  };
}

// ---------------------------------------------------------------------------------------------
// Identifiers, per mission, after the missions' product naming conventions

const HOUR_MS = 3_600_000;

/** `YYYYMMDDTHHMMSS` in UTC. */
function compact(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '');
}

function pad(n: number, digits: number): string {
  return String(n).padStart(digits, '0');
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function hex(random: () => number, digits: number): string {
  return Math.floor(random() * 16 ** digits)
    .toString(16)
    .toUpperCase()
    .padStart(digits, '0');
}

/** Sensing days spread uniformly over the window. */
function sensingDays(count: number, random: () => number): number[] {
  const days = Math.floor((WINDOW_END - WINDOW_START) / DAY_MS);
  return Array.from({ length: Math.max(1, count) }, () => WINDOW_START + Math.floor(random() * days) * DAY_MS);
}

/** UTC time on `day` when a sun-synchronous pass is at `localHour` over longitude `lon`, with some jitter. */
function passTime(day: number, localHour: number, lon: number, random: () => number): number {
  const hour = (((localHour - lon / 15 + (random() - 0.5) * 0.5) % 24) + 24) % 24;
  return day + Math.round(hour * HOUR_MS);
}

/** `count` records with distinct ids: the rare collision is regenerated rather than emitted twice. */
function uniqueRecords(count: number, make: (i: number) => ItemRecord): ItemRecord[] {
  const seen = new Set<string>();
  const out: ItemRecord[] = [];
  for (let i = 0; out.length < count && i < count * 10; i++) {
    const r = make(i);
    if (!seen.has(r.id)) {
      seen.add(r.id);
      out.push(r);
    }
  }
  return out;
}

const S2_BASELINES: [until: number, baseline: string][] = [
  [Date.UTC(2022, 0, 25), 'N0301'],
  [Date.UTC(2022, 11, 6), 'N0400'],
  [Date.UTC(2023, 5, 6), 'N0500'],
  [Date.UTC(2023, 11, 13), 'N0509'],
  [Date.UTC(2024, 6, 23), 'N0510'],
  [Infinity, 'N0511'],
];

function s2L1cItems(count: number, random: () => number): ItemRecord[] {
  const tutorial = s2Record(
    'L1C',
    'S2A',
    Date.UTC(2023, 8, 10, 5, 7, 1),
    tutorialTile(),
    Date.UTC(2023, 8, 10, 7, 43, 21),
    12.5,
  );
  const days = sensingDays(count - 1, random);
  const generated = uniqueRecords(count, (i) => {
    const tile = pick(random, s2Tiles());
    const sensing = passTime(days[i % days.length]!, 10.5, tile.centre[0], random);
    const satellite = random() < 0.5 ? 'S2A' : 'S2B';
    const discriminator = sensing + Math.round((1 + random() * 3) * HOUR_MS);
    return s2Record('L1C', satellite, sensing, tile, discriminator, Math.round(random() ** 2 * 10000) / 100);
  });
  return [...generated.filter((r) => r.id !== tutorial.id).slice(0, count - 1), tutorial];
}

/** Every L1C product has its L2A, processed a little later from the same datatake. */
function s2L2aFromL1c(l1c: ItemRecord, random: () => number): ItemRecord {
  const discriminator = l1c.source.discriminator! + Math.round((0.3 + random()) * HOUR_MS);
  const cloud = l1c.properties['eo:cloud_cover'] as number;
  return s2Record('L2A', l1c.source.satellite, l1c.start, l1c.source.tile!, discriminator, cloud);
}

function s2Record(
  level: 'L1C' | 'L2A',
  satellite: string,
  sensing: number,
  tile: S2Tile,
  discriminator: number,
  cloudCover: number,
): ItemRecord {
  const baseline = S2_BASELINES.find(([until]) => sensing < until)![1];
  const id = `${satellite}_MSI${level}_${compact(sensing)}_${baseline}_R${pad(tile.relativeOrbit, 3)}_T${tile.id}_${compact(discriminator)}.SAFE`;
  return {
    id,
    collection: `EO.ESA.DAT.SENTINEL-2.MSI.${level}`,
    start: sensing,
    end: sensing,
    ring: tile.ring,
    bbox: tile.bbox,
    properties: {
      platform: `sentinel-2${satellite.slice(-1).toLowerCase()}`,
      constellation: 'sentinel-2',
      instruments: ['msi'],
      'processing:level': level,
      'product:type': `S2MSI${level.slice(1)}`,
      'eo:cloud_cover': cloudCover,
      'sat:relative_orbit': tile.relativeOrbit,
      'grid:code': `MGRS-${tile.id}`,
    },
    source: { satellite, tile, discriminator },
  };
}

const S1_ORBIT_MS = (12 * DAY_MS) / 175; // 175 orbits per 12-day repeat cycle
const S1B_LAST_DAY = Date.UTC(2021, 11, 23);
/** A known (time, absolute orbit, datatake) per satellite; the others follow from the orbit period. */
const S1_ANCHORS: Record<string, { time: number; orbit: number; datatake: number }> = {
  S1A: { time: Date.UTC(2023, 8, 10, 5, 42, 56), orbit: 50261, datatake: 0x060cd9 },
  S1B: { time: Date.UTC(2021, 11, 1), orbit: 29854, datatake: 0x039e2a },
};

function s1GrdItems(count: number, random: () => number): ItemRecord[] {
  const days = sensingDays(count, random);
  return uniqueRecords(count, (i) => {
    const place = pick(random, PLACES);
    const lon = place[0] + (random() - 0.5) * 4;
    const lat = Math.min(72, place[1] + (random() - 0.5) * 3);
    const ascending = random() < 0.5;
    const start = passTime(days[i % days.length]!, ascending ? 18 : 6, lon, random);
    const satellite = start < S1B_LAST_DAY && random() < 0.5 ? 'S1B' : 'S1A';
    const anchor = S1_ANCHORS[satellite]!;
    const orbit = anchor.orbit + Math.floor((start - anchor.time) / S1_ORBIT_MS);
    const datatake = hex(() => ((anchor.datatake + (orbit - anchor.orbit) * 8) % 0x1000000) / 0x1000000, 6);
    const ring = rectangleAround(lon, lat, 250, 170, ascending ? -12 : 192);
    return s1Record('GRDH', satellite, start, start + 25_000, orbit, datatake, hex(random, 4), ring, ascending);
  });
}

/** The SLC of the same datatake as a GRD product: a little longer, with its own unique id. */
function s1SlcFromGrd(grd: ItemRecord, random: () => number): ItemRecord {
  const { satellite, orbit, datatake } = grd.source;
  const ascending = grd.properties['sat:orbit_state'] === 'ascending';
  return s1Record(
    'SLC_',
    satellite,
    grd.start - 1000,
    grd.end + 2000,
    orbit!,
    datatake!,
    hex(random, 4),
    grd.ring,
    ascending,
  );
}

function s1Record(
  type: 'GRDH' | 'SLC_',
  satellite: string,
  start: number,
  end: number,
  orbit: number,
  datatake: string,
  unique: string,
  ring: Ring,
  ascending: boolean,
): ItemRecord {
  return {
    id: `${satellite}_IW_${type}_1SDV_${compact(start)}_${compact(end)}_${pad(orbit, 6)}_${datatake}_${unique}.SAFE`,
    collection: type === 'GRDH' ? S1_GRD : 'EO.ESA.DAT.SENTINEL-1.L1_SLC',
    start,
    end,
    ring,
    bbox: ringBbox(ring),
    properties: {
      platform: `sentinel-1${satellite.slice(-1).toLowerCase()}`,
      constellation: 'sentinel-1',
      instruments: ['c-sar'],
      'sar:instrument_mode': 'IW',
      'sar:polarizations': ['VV', 'VH'],
      'product:type': type === 'GRDH' ? 'IW_GRDH_1S' : 'IW_SLC__1S',
      'sat:absolute_orbit': orbit,
      'sat:orbit_state': ascending ? 'ascending' : 'descending',
    },
    source: { satellite, orbit, datatake },
  };
}

const S3_ORBIT_MS = (27 * DAY_MS) / 385; // 385 orbits per 27-day cycle
const S3_ANCHOR_TIME = Date.UTC(2023, 8, 10, 9, 50, 35);
/** Orbits since the start of the mission at S3_ANCHOR_TIME: S3A was in cycle 103, relative orbit 79. */
const S3_ANCHOR_ORBITS: Record<string, number> = { S3A: 102 * 385 + 78, S3B: 84 * 385 + 270 };

function s3Items(count: number, random: () => number, product: 'EFR' | 'WRR'): ItemRecord[] {
  const days = sensingDays(count, random);
  return uniqueRecords(count, (i) => {
    const satellite = random() < 0.5 ? 'S3A' : 'S3B';
    const place = pick(random, PLACES);
    const lon = place[0] + (random() - 0.5) * 6;
    const lat = Math.min(70, place[1] + (random() - 0.5) * 6);
    const duration = product === 'EFR' ? 180 : 2580 + Math.floor(random() * 120);
    const start = passTime(days[i % days.length]!, product === 'EFR' ? 10 : 9.6, lon, random);
    const end = start + duration * 1000;
    const created = end + Math.round((20 + random() * 30) * HOUR_MS);
    const orbits = S3_ANCHOR_ORBITS[satellite]! + Math.floor((start - S3_ANCHOR_TIME) / S3_ORBIT_MS);
    const cycle = pad(Math.floor(orbits / 385) + 1, 3);
    const relative = (orbits % 385) + 1;
    const instance =
      product === 'EFR'
        ? `${pad(duration, 4)}_${cycle}_${pad(relative, 3)}_${pad(Math.floor(random() * 100) * 60, 4)}_${satellite === 'S3A' ? 'PS1' : 'PS2'}`
        : `${pad(duration, 4)}_${cycle}_${pad(relative, 3)}______MAR`;
    const level = product === 'EFR' ? '1' : '2';
    const ring: Ring =
      product === 'EFR'
        ? rectangleAround(lon, lat, 1270, 1200, 192)
        : [
            [lon - 9, -56],
            [lon + 9, -56],
            [lon + 9, 75],
            [lon - 9, 75],
            [lon - 9, -56],
          ];
    return {
      id: `${satellite}_OL_${level}_${product}____${compact(start)}_${compact(end)}_${compact(created)}_${instance}_O_NT_003.SEN3`,
      collection: `EO.EUM.DAT.SENTINEL-3.OL_${level}_${product}___`,
      start,
      end,
      ring,
      bbox: ringBbox(ring),
      properties: {
        platform: `sentinel-3${satellite.slice(-1).toLowerCase()}`,
        constellation: 'sentinel-3',
        instruments: ['olci'],
        'processing:level': `L${level}`,
        'product:type': `OL_${level}_${product}___`,
        'sat:relative_orbit': relative,
        'sat:orbit_state': 'descending',
      },
      source: { satellite },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Any well-formed identifier: the real catalogue holds far more than the generated sample, so a
// real product id (from the notebooks, the README, a user's own search) resolves to an item built
// from the id alone — sensing times from its dates, a footprint from its tile (Sentinel-2) or
// seeded by the id (Sentinel-1/3). The same id always gives the same item.

const S2_ID =
  /^(S2[A-D])_MSI(L1C|L2A)_(\d{8}T\d{6})_N\d{4}_R(\d{3})_T(\d{2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})_(\d{8}T\d{6})(?:\.SAFE)?$/;
const S1_ID =
  /^(S1[A-D])_(IW|EW|WV|S[1-6])_(GRD[HMF]|SLC_)_1S(?:SH|SV|DH|DV)_(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{6})_([0-9A-F]{6})_[0-9A-F]{4}(?:_COG)?(?:\.SAFE)?$/;
const S3_ID =
  /^(S3[A-D])_(OL_([12])_(EFR|ERR|WFR|WRR)___)_(\d{8}T\d{6})_(\d{8}T\d{6})_\d{8}T\d{6}_.{17}_.{3}_[OFDR]_(?:NR|ST|NT)_\d{3}(?:\.SEN3)?$/;
const LATITUDE_BANDS = 'CDEFGHJKLMNPQRSTUVWX';

/** The item a well-formed Sentinel-1/2/3 identifier stands for (its collection follows from the id), or undefined. */
export function recordForIdentifier(id: string): ItemRecord | undefined {
  return s2FromId(id) ?? s1FromId(id) ?? s3FromId(id);
}

/** `YYYYMMDDTHHMMSS` as epoch ms, or undefined when it is no real date. */
function parseCompact(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text)!;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return compact(ms) === text ? ms : undefined;
}

function s2FromId(id: string): ItemRecord | undefined {
  const m = S2_ID.exec(id);
  const sensing = m ? parseCompact(m[3]!) : undefined;
  if (!m || sensing === undefined || parseCompact(m[8]!) === undefined || !(+m[5]! >= 1 && +m[5]! <= 60))
    return undefined;
  const [, satellite, level, , orbit, zone, band, square] = m;
  // The tile's zone and latitude band place it; its 100 km square moves it within them.
  const random = seededRandom(`tile:${zone}${band}${square}`);
  const south = -80 + LATITUDE_BANDS.indexOf(band!) * 8;
  const lat = Math.max(-79, Math.min(83, south + 1 + random() * (band === 'X' ? 10 : 6)));
  const lon = -180 + (+zone! - 1) * 6 + 0.5 + random() * 5;
  const ring = rectangleAround(lon, lat, 110, 110, 0);
  const tile: S2Tile = {
    id: `${zone}${band}${square}`,
    ring,
    bbox: ringBbox(ring),
    centre: [lon, lat],
    relativeOrbit: +orbit!,
  };
  const cloud = Math.round(seededRandom(`cloud:${id}`)() ** 2 * 10000) / 100;
  return { ...s2Record(level as 'L1C' | 'L2A', satellite!, sensing, tile, 0, cloud), id };
}

function s1FromId(id: string): ItemRecord | undefined {
  const m = S1_ID.exec(id);
  const start = m ? parseCompact(m[4]!) : undefined;
  const end = m ? parseCompact(m[5]!) : undefined;
  if (!m || start === undefined || end === undefined || end < start) return undefined;
  const [, satellite, , type, , , orbit, datatake] = m;
  const random = seededRandom(`s1:${id}`);
  const place = pick(random, PLACES);
  const ascending = random() < 0.5;
  const ring = rectangleAround(place[0] + (random() - 0.5) * 4, place[1], 250, 170, ascending ? -12 : 192);
  const grd = type!.startsWith('GRD');
  const record = s1Record(grd ? 'GRDH' : 'SLC_', satellite!, start, end, +orbit!, datatake!, '0000', ring, ascending);
  return { ...record, id };
}

function s3FromId(id: string): ItemRecord | undefined {
  const m = S3_ID.exec(id);
  const start = m ? parseCompact(m[5]!) : undefined;
  const end = m ? parseCompact(m[6]!) : undefined;
  if (!m || start === undefined || end === undefined || end < start) return undefined;
  const [, satellite, datatype, level, product] = m;
  const random = seededRandom(`s3:${id}`);
  const place = pick(random, PLACES);
  const ring = rectangleAround(
    place[0],
    place[1],
    1270,
    product!.startsWith('W') || product === 'ERR' ? 2900 : 1200,
    192,
  );
  return {
    id,
    collection: `EO.EUM.DAT.SENTINEL-3.${datatype}`,
    start,
    end,
    ring,
    bbox: ringBbox(ring),
    properties: {
      platform: `sentinel-3${satellite!.slice(-1).toLowerCase()}`,
      constellation: 'sentinel-3',
      instruments: ['olci'],
      'processing:level': `L${level}`,
      'product:type': datatype!,
      'sat:orbit_state': 'descending',
    },
    source: { satellite: satellite! },
  };
}

/** Places products are centred on: European cities and landscapes, and Reykjavik. */
const PLACES: [lon: number, lat: number][] = [
  [2.35, 48.86],
  [-3.7, 40.42],
  [12.5, 41.9],
  [13.4, 52.52],
  [16.37, 48.21],
  [21.01, 52.23],
  [18.07, 59.33],
  [10.75, 59.91],
  [24.94, 60.17],
  [-9.14, 38.72],
  [23.73, 37.98],
  [26.1, 44.43],
  [-6.26, 53.35],
  [-0.13, 51.51],
  [4.9, 52.37],
  [11.58, 48.14],
  [1.44, 43.6],
  [8.54, 47.37],
  [8.65, 49.87],
  [6.86, 45.83],
  [12.33, 45.44],
  [4.6, 43.5],
  [-21.9, 64.15],
  [14.42, 50.08],
  [19.04, 47.5],
  [-5.98, 37.39],
  [25.47, 65.01],
  [15.98, 45.81],
];
/** A point inside MGRS tile 47VLH, the tile of the tutorial's example product (central Siberia). */
const TUTORIAL_PLACE: [lon: number, lat: number] = [96.4, 60.9];

// ---------------------------------------------------------------------------------------------
// Geometry: WGS84 UTM (Snyder's series), MGRS 100 km squares as Sentinel-2 tiles, footprints

type Ring = [lon: number, lat: number][];

interface S2Tile {
  id: string; // e.g. 31UDQ
  ring: Ring;
  bbox: Bbox;
  centre: [number, number];
  relativeOrbit: number;
}

const RAD = Math.PI / 180;
const WGS84_A = 6378137;
const WGS84_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563);
const WGS84_EP2 = WGS84_E2 / (1 - WGS84_E2);
const UTM_K0 = 0.9996;
const S2_TILE_METRES = 109_800;

/** Easting and northing (northern hemisphere) of a point in UTM zone `zone`. */
export function toUtm(lon: number, lat: number, zone: number): [number, number] {
  const phi = lat * RAD;
  const [sin, cos, tan] = [Math.sin(phi), Math.cos(phi), Math.tan(phi)];
  const e4 = WGS84_E2 ** 2;
  const e6 = WGS84_E2 ** 3;
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sin * sin);
  const t = tan * tan;
  const c = WGS84_EP2 * cos * cos;
  const a = cos * (lon - ((zone - 1) * 6 - 177)) * RAD;
  const m =
    WGS84_A *
    ((1 - WGS84_E2 / 4 - (3 * e4) / 64 - (5 * e6) / 256) * phi -
      ((3 * WGS84_E2) / 8 + (3 * e4) / 32 + (45 * e6) / 1024) * Math.sin(2 * phi) +
      ((15 * e4) / 256 + (45 * e6) / 1024) * Math.sin(4 * phi) -
      ((35 * e6) / 3072) * Math.sin(6 * phi));
  const easting =
    UTM_K0 * n * (a + ((1 - t + c) * a ** 3) / 6 + ((5 - 18 * t + t * t + 72 * c - 58 * WGS84_EP2) * a ** 5) / 120) +
    500_000;
  const northing =
    UTM_K0 *
    (m +
      n *
        tan *
        ((a * a) / 2 +
          ((5 - t + 9 * c + 4 * c * c) * a ** 4) / 24 +
          ((61 - 58 * t + t * t + 600 * c - 330 * WGS84_EP2) * a ** 6) / 720));
  return [easting, northing];
}

/** Longitude and latitude of a UTM easting/northing (northern hemisphere) in zone `zone`. */
export function fromUtm(easting: number, northing: number, zone: number): [number, number] {
  const x = easting - 500_000;
  const e4 = WGS84_E2 ** 2;
  const e6 = WGS84_E2 ** 3;
  const mu = northing / UTM_K0 / (WGS84_A * (1 - WGS84_E2 / 4 - (3 * e4) / 64 - (5 * e6) / 256));
  const e1 = (1 - Math.sqrt(1 - WGS84_E2)) / (1 + Math.sqrt(1 - WGS84_E2));
  const phi1 =
    mu +
    ((3 * e1) / 2 - (27 * e1 ** 3) / 32) * Math.sin(2 * mu) +
    ((21 * e1 ** 2) / 16 - (55 * e1 ** 4) / 32) * Math.sin(4 * mu) +
    ((151 * e1 ** 3) / 96) * Math.sin(6 * mu) +
    ((1097 * e1 ** 4) / 512) * Math.sin(8 * mu);
  const [sin, cos, tan] = [Math.sin(phi1), Math.cos(phi1), Math.tan(phi1)];
  const c = WGS84_EP2 * cos * cos;
  const t = tan * tan;
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sin * sin);
  const r = (WGS84_A * (1 - WGS84_E2)) / (1 - WGS84_E2 * sin * sin) ** 1.5;
  const d = x / (n * UTM_K0);
  const lat =
    phi1 -
    ((n * tan) / r) *
      ((d * d) / 2 -
        ((5 + 3 * t + 10 * c - 4 * c * c - 9 * WGS84_EP2) * d ** 4) / 24 +
        ((61 + 90 * t + 298 * c + 45 * t * t - 252 * WGS84_EP2 - 3 * c * c) * d ** 6) / 720);
  const lon =
    (d -
      ((1 + 2 * t + c) * d ** 3) / 6 +
      ((5 - 2 * c + 28 * t - 3 * c * c + 8 * WGS84_EP2 + 24 * t * t) * d ** 5) / 120) /
    cos;
  return [round6((zone - 1) * 6 - 177 + lon / RAD), round6(lat / RAD)];
}

/** The Sentinel-2 tile (MGRS 100 km square, 109.8 km wide) holding a point of the northern hemisphere. */
export function s2TileAt(lon: number, lat: number): S2Tile {
  const zone = Math.floor((lon + 180) / 6) + 1;
  const [easting, northing] = toUtm(lon, lat, zone);
  const column = Math.floor(easting / 100_000);
  const row = Math.floor(northing / 100_000);
  const band = 'CDEFGHJKLMNPQRSTUVWX'[Math.min(19, Math.floor((lat + 80) / 8))];
  const columnLetter = ['STUVWXYZ', 'ABCDEFGH', 'JKLMNPQR'][zone % 3]![column - 1];
  const rowLetter = 'ABCDEFGHJKLMNPQRSTUV'[(row + (zone % 2 === 0 ? 5 : 0)) % 20];
  const id = `${pad(zone, 2)}${band}${columnLetter}${rowLetter}`;
  const [e0, n0] = [column * 100_000, row * 100_000];
  const e1 = e0 + S2_TILE_METRES;
  const n1 = n0 + S2_TILE_METRES;
  const ring: Ring = [fromUtm(e0, n0, zone), fromUtm(e1, n0, zone), fromUtm(e1, n1, zone), fromUtm(e0, n1, zone)];
  ring.push(ring[0]!);
  const bbox = ringBbox(ring);
  const relativeOrbit = id === '47VLH' ? 19 : 1 + (createHash('sha256').update(id).digest().readUInt16LE(0) % 143);
  return { id, ring, bbox, centre: [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2], relativeOrbit };
}

let tiles: S2Tile[] | undefined;
/** Tiles over PLACES and the tutorial's tile, deduplicated; constant data computed on first use. */
function s2Tiles(): S2Tile[] {
  tiles ??= [
    ...new Map([...PLACES, TUTORIAL_PLACE].map(([lon, lat]) => s2TileAt(lon, lat)).map((t) => [t.id, t])).values(),
  ];
  return tiles;
}

function tutorialTile(): S2Tile {
  return s2Tiles().find((t) => t.id === '47VLH')!;
}

/** A counter-clockwise rectangle `acrossKm` × `alongKm` centred on a point, along a track heading `headingDeg`. */
function rectangleAround(lon: number, lat: number, acrossKm: number, alongKm: number, headingDeg: number): Ring {
  const h = headingDeg * RAD;
  const along = [Math.sin(h) * (alongKm / 2), Math.cos(h) * (alongKm / 2)] as const;
  const across = [Math.cos(h) * (acrossKm / 2), -Math.sin(h) * (acrossKm / 2)] as const;
  const toLonLat = (x: number, y: number): [number, number] => [
    round6(Math.max(-180, Math.min(180, lon + x / (111.32 * Math.cos(lat * RAD))))),
    round6(Math.max(-90, Math.min(90, lat + y / 110.57))),
  ];
  const ring: Ring = [
    toLonLat(-across[0] - along[0], -across[1] - along[1]),
    toLonLat(across[0] - along[0], across[1] - along[1]),
    toLonLat(across[0] + along[0], across[1] + along[1]),
    toLonLat(-across[0] + along[0], -across[1] + along[1]),
  ];
  if (signedArea(ring) < 0) ring.reverse();
  ring.push(ring[0]!);
  return ring;
}

function signedArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i]!;
    const [x2, y2] = ring[(i + 1) % ring.length]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum / 2;
}

function ringBbox(ring: Ring): Bbox {
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A deterministic generator of numbers in [0, 1) seeded by a label (xorshift32 over a sha256 seed). */
export function seededRandom(label: string): () => number {
  let state = createHash('sha256').update(label).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}
