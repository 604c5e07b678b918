/**
 * `campaign report --html`: one self-contained HTML page of a campaign — a map of every product's
 * footprint coloured by its state over the coastline, a timeline of the deliveries, the totals
 * and the products not delivered. Everything is inline (SVG drawn here, CSS, a few lines of JS,
 * the data): the page needs no network to be viewed, and stays small (the land is culled to the
 * map's extent and drawn at 1:110m).
 */
import type { Footprint } from '../../hook/stac-fields';
import type { CampaignItem, CampaignReport } from '../../shared/campaign-report';
import { formatBytes } from '../render';
import type { Ring } from './coastline';

/** How the map colours a product's state. */
export type MapState = 'delivered' | 'failed' | 'quarantined' | 'pending';
export const MAP_STATES: readonly MapState[] = ['delivered', 'failed', 'quarantined', 'pending'];

const COLOURS: Record<MapState, string> = {
  delivered: '#1a9850',
  failed: '#d73027',
  quarantined: '#f46d43',
  pending: '#4575b4',
};

/** Delivered or held already; failed in any way; set aside; not finished. Unknown states count as pending. */
export function mapStateOf(state: string): MapState {
  if (state === 'delivered' || state === 'skipped') return 'delivered';
  if (state === 'failed' || state === 'timed_out' || state === 'cancelled') return 'failed';
  if (state === 'quarantined') return 'quarantined';
  return 'pending';
}

export interface CampaignPageInput {
  report: CampaignReport;
  /** Every product of the campaign (the manifest's list when the report omitted some). */
  items: readonly CampaignItem[];
  footprints: Readonly<Record<string, Footprint>>;
  land: readonly Ring[];
  generatedAt: Date;
}

export function renderCampaignPage(input: CampaignPageInput): string {
  const { report, items } = input;
  const byState = new Map<MapState, number>(MAP_STATES.map((s) => [s, 0]));
  for (const item of items) byState.set(mapStateOf(item.state), byState.get(mapStateOf(item.state))! + 1);
  const drawn = items.filter((item) => input.footprints[item.identifier]).length;
  const data = { name: report.name, workflowId: report.workflowId, items: items.length, footprints: drawn };
  const title = `Campaign ${report.name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)} <small>${esc(report.outcome)}</small></h1>
<p class="sub">${esc(report.collection)} · workflow ${esc(report.workflowId)} · ${esc(report.startedAt)} → ${esc(report.finishedAt ?? 'running')}</p>
<section>
<h2>Footprints</h2>
<ul class="legend">${MAP_STATES.map((s) => `<li><span class="swatch ${s}"></span>${s} ${byState.get(s)}</li>`).join('')}</ul>
${mapSvg(input)}
<p id="selected" class="note">${drawn} of ${items.length} products drawn${drawn < items.length ? ` (${items.length - drawn} without a footprint in the catalogue)` : ''}; click one for its name.</p>
</section>
<section>
<h2>Deliveries</h2>
${timelineSvg(items)}
</section>
<section>
<h2>Totals</h2>
${totalsTable(report, items)}
</section>
${problemsTable(items)}
<p class="note">Written by dedl-harvest on ${esc(input.generatedAt.toISOString())}. Coastline: Natural Earth 1:110m (world-atlas).</p>
<script type="application/json" id="campaign-data">${json(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}
h1 small{font-size:60%;color:#666}.sub,.note{color:#555}
.map{width:100%;height:auto;background:#dbe9f4;border:1px solid #bbb}
.land{fill:#f4f1e8;stroke:#8c8c7a;stroke-width:.6}
.footprint{fill-opacity:.45;stroke-width:1.2;cursor:pointer}.footprint:hover{fill-opacity:.8}
${MAP_STATES.map((s) => `.footprint.${s},.swatch.${s}{fill:${COLOURS[s]};stroke:${COLOURS[s]};background:${COLOURS[s]}}`).join('\n')}
.legend{list-style:none;padding:0;display:flex;gap:18px}.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;opacity:.7}
.timeline{width:100%;height:auto}.delivery-bar{fill:${COLOURS.delivered};fill-opacity:.7}.cumulative{fill:none;stroke:#333;stroke-width:1.5}
.axis{font-size:11px;fill:#555}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}`;

const SCRIPT = `document.querySelectorAll('.footprint').forEach(function(p){p.addEventListener('click',function(){
document.getElementById('selected').textContent=p.getAttribute('data-id')+' — '+p.getAttribute('data-state');});});`;

interface View {
  west: number;
  south: number;
  east: number;
  north: number;
  width: number;
  height: number;
  project(point: [number, number]): [number, number];
}

/** The footprints' extent with a margin (the world when there are none), in an equirectangular projection scaled at its middle latitude. */
function viewOf(footprints: Iterable<Footprint>): View {
  let [west, south, east, north] = [180, 90, -180, -90];
  for (const ring of footprints)
    for (const [lon, lat] of ring) {
      west = Math.min(west, lon);
      east = Math.max(east, lon);
      south = Math.min(south, lat);
      north = Math.max(north, lat);
    }
  if (west > east) [west, south, east, north] = [-180, -60, 180, 85];
  const pad = Math.max(1, 0.2 * Math.max(east - west, north - south));
  west = Math.max(-180, west - pad);
  east = Math.min(180, east + pad);
  south = Math.max(-85, south - pad);
  north = Math.min(85, north + pad);
  const kx = Math.cos((((north + south) / 2) * Math.PI) / 180);
  let perDegree = 960 / ((east - west) * kx);
  if ((north - south) * perDegree > 640) perDegree = 640 / (north - south);
  const width = Math.round((east - west) * kx * perDegree);
  const height = Math.round((north - south) * perDegree);
  return {
    west,
    south,
    east,
    north,
    width,
    height,
    project: ([lon, lat]) => [round1((lon - west) * kx * perDegree), round1((north - lat) * perDegree)],
  };
}

function mapSvg(input: CampaignPageInput): string {
  const view = viewOf(Object.values(input.footprints));
  const land = input.land
    .filter((ring) => intersects(ring, view))
    .map((ring) => pathOf(ring, view, true))
    .join('');
  const footprints = input.items
    .filter((item) => input.footprints[item.identifier])
    .map((item) => {
      const state = mapStateOf(item.state);
      return `<path class="footprint ${state}" data-id="${esc(item.identifier)}" data-state="${state}" d="${pathOf(input.footprints[item.identifier]!, view)}"><title>${esc(item.identifier)} (${esc(item.state)})</title></path>`;
    })
    .join('\n');
  return `<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${view.width} ${view.height}" role="img" aria-label="product footprints">
<path class="land" d="${land}"/>
<g>${footprints}</g>
</svg>`;
}

/**
 * A closed SVG path of a ring; points falling on the previous one's pixel are left out. `clamp`
 * (the land) pulls points outside the map onto a frame just beyond it: what shows of a filled
 * shape stays the same, and a continent's far coasts collapse into a few points. A ring that
 * jumps across the antimeridian is led round the map's frame on the side of its pole, so the jump
 * draws no line across the map (Eurasia's two jumps cancel; Antarctica's closes round the south).
 */
function pathOf(ring: readonly [number, number][], view: View, clamp = false): string {
  const frame = { left: -10, right: view.width + 10, top: -10, bottom: view.height + 10 };
  const points: [number, number][] = [];
  let previous: [number, number] | undefined;
  for (const point of ring) {
    if (clamp && previous && Math.abs(point[0] - previous[0]) > 180) {
      const y = point[1] > 0 ? frame.top : frame.bottom;
      points.push([previous[0] > 0 ? frame.right : frame.left, y], [point[0] > 0 ? frame.right : frame.left, y]);
    }
    const [x, y] = view.project(point);
    points.push(
      clamp ? [Math.min(frame.right, Math.max(frame.left, x)), Math.min(frame.bottom, Math.max(frame.top, y))] : [x, y],
    );
    previous = point;
  }
  let d = '';
  let last = '';
  for (const [x, y] of points) {
    const here = `${x},${y}`;
    if (here === last) continue;
    d += `${d ? 'L' : 'M'}${here}`;
    last = here;
  }
  return `${d}Z`;
}

function intersects(ring: readonly [number, number][], view: View): boolean {
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const [lon, lat] of ring) {
    w = Math.min(w, lon);
    e = Math.max(e, lon);
    s = Math.min(s, lat);
    n = Math.max(n, lat);
  }
  return w <= view.east && e >= view.west && s <= view.north && n >= view.south;
}

/** Verified products over time (those of earlier runs too): a bar per time slice and the running total. */
function timelineSvg(items: readonly CampaignItem[]): string {
  const times = items
    .filter((item) => mapStateOf(item.state) === 'delivered' && item.verifiedAt)
    .map((item) => Date.parse(item.verifiedAt!))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (times.length === 0) return '<p class="note">No delivery times recorded.</p>';
  const [width, height, top, bottom] = [960, 180, 10, 24];
  const first = times[0]!;
  const span = Math.max(1, times[times.length - 1]! - first);
  const slices = Math.min(48, times.length);
  const counts = new Array<number>(slices).fill(0);
  for (const t of times) counts[Math.min(slices - 1, Math.floor(((t - first) / span) * slices))]!++;
  const most = Math.max(...counts);
  const plot = height - top - bottom;
  const barWidth = width / slices;
  const bars = counts
    .map((count, i) => {
      const h = round1((count / most) * plot);
      return `<rect class="delivery-bar" x="${round1(i * barWidth + 1)}" y="${round1(top + plot - h)}" width="${round1(barWidth - 2)}" height="${h}"><title>${count}</title></rect>`;
    })
    .join('');
  const cumulative = times
    .map((t, i) => `${round1(((t - first) / span) * width)},${round1(top + plot - ((i + 1) / times.length) * plot)}`)
    .join(' ');
  const label = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="deliveries over time">
${bars}
<polyline class="cumulative" points="${cumulative}"/>
<text class="axis" x="0" y="${height - 6}">${label(first)} UTC</text>
<text class="axis" x="${width}" y="${height - 6}" text-anchor="end">${label(first + span)} UTC · ${times.length} verified (bars: per slice, line: running total)</text>
</svg>`;
}

function totalsTable(report: CampaignReport, items: readonly CampaignItem[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
  const rows: [string, string][] = [
    ['products', String(items.length)],
    ...[...counts].map(([state, n]): [string, string] => [state, String(n)]),
    ['bytes delivered', `${formatBytes(report.bytes)} (${report.bytes})`],
    ['Hook orders', String(report.orders)],
    ['runs', String(report.runs)],
    [
      'account',
      `${report.account.name}: ${report.account.maxItemsInFlight} items in flight, ${report.account.monthlyOrders} orders a month`,
    ],
    ...(report.manifest ? [['manifest', report.manifest] as [string, string]] : []),
  ];
  return `<table class="totals">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="n">${esc(v)}</td></tr>`).join('')}</table>`;
}

/** The products that need attention (at most 500 rows; the manifest has them all). */
function problemsTable(items: readonly CampaignItem[]): string {
  const rows = items.filter((item) => mapStateOf(item.state) !== 'delivered');
  if (rows.length === 0) return '';
  const shown = rows.slice(0, 500);
  return `<section><h2>Not delivered (${rows.length})</h2>
<table class="problems"><tr><th>product</th><th>state</th><th>why</th></tr>
${shown.map((i) => `<tr><td>${esc(i.identifier)}</td><td>${esc(i.state)}</td><td>${esc(i.error ?? '')}</td></tr>`).join('\n')}
</table>${rows.length > shown.length ? `<p class="note">…and ${rows.length - shown.length} more (see the manifest).</p>` : ''}</section>`;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a script element. */
function json(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
