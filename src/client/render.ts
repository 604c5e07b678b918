/**
 * How harvests look on screen: progress bars redrawn in place on a terminal, one plain line per
 * change otherwise (logs, CI, pipes), and the final report. `--json` output is written by the
 * commands themselves, as one JSON document.
 */
import type { HarvestReport, ItemReport } from '../shared/harvest-report';
import type { OutputStream } from './io';
import type { HarvestSnapshot, ItemProgress } from './progress';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const STATE_MARK: Record<string, string> = {
  ordered: '·',
  delivering: '↓',
  delivered: '✔',
  failed: '✘',
  undelivered: '⚠',
  timed_out: '⌛',
  cancelled: '⊘',
};

/** `s2-alps` · polling · 1 of 3 delivered · 4.0 MiB */
export function headline(snapshot: HarvestSnapshot): string {
  const p = snapshot.progress;
  if (!p) {
    const why = snapshot.queryError ? ` (${snapshot.queryError})` : '';
    return `${snapshot.workflowId} · ${snapshot.status.toLowerCase()}${why}`;
  }
  const inFlight =
    snapshot.items.reduce((sum, i) => sum + (i.inFlightBytes ?? 0), 0) + snapshot.unassignedInFlightBytes;
  const bytes = p.totals.bytes + inFlight;
  const order = p.orderId ? ` · order ${p.orderId}` : '';
  return `${p.name} · ${snapshot.status === 'RUNNING' ? p.phase : snapshot.status.toLowerCase()}${order} · ${p.totals.delivered} of ${p.totals.items} delivered · ${formatBytes(bytes)}`;
}

/** What an item is doing, in a few words. */
export function itemStatus(item: ItemProgress): string {
  switch (item.state) {
    case 'ordered':
      return item.hookStatus ? `${item.hookStatus.replace('_', ' ')} at the Hook` : 'to be ordered';
    case 'delivering':
      if (item.inFlightBytes !== undefined) {
        return item.expectedBytes
          ? `downloading ${formatBytes(item.inFlightBytes)} of ${formatBytes(item.expectedBytes)}${rateText(item)}`
          : `downloading ${formatBytes(item.inFlightBytes)}${rateText(item)}`;
      }
      return 'delivering';
    case 'delivered':
      return `delivered ${formatBytes(item.bytes ?? 0)}${item.sha256 ? ` sha256 ${item.sha256.slice(0, 12)}…` : ''}`;
    default:
      return `${item.state.replace('_', ' ')}${item.error ? `: ${item.error}` : ''}`;
  }
}

/** ` · 2.4 MiB/s · 1m 05s left` when the download's rate is known, else nothing. */
export function rateText(item: Pick<ItemProgress, 'bytesPerSecond' | 'etaSeconds'>): string {
  if (!item.bytesPerSecond) return '';
  const left = item.etaSeconds === undefined ? '' : ` · ${formatEta(item.etaSeconds)} left`;
  return ` · ${formatBytes(item.bytesPerSecond)}/s${left}`;
}

/** Seconds as `45s`, `3m 05s`, `2h 10m`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

function fit(text: string, width: number): string {
  if (width <= 1) return '';
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

/** The block redrawn on a terminal: a headline, one line per item, and any retrying activity. */
export function progressBlock(snapshot: HarvestSnapshot, columns: number): string[] {
  const lines = [fit(headline(snapshot), columns).trimEnd()];
  // What follows an identifier takes up to ~42 columns (a bar, a percentage, two sizes).
  const idWidth = Math.max(12, Math.min(Math.max(...snapshot.items.map((i) => i.identifier.length), 0), columns - 48));
  for (const item of snapshot.items) {
    const mark = STATE_MARK[item.state] ?? '?';
    const label = `  ${mark} ${fit(item.identifier, idWidth)}  `;
    let status: string;
    if (item.state === 'delivering' && item.inFlightBytes !== undefined && item.expectedBytes) {
      status = `${bar(item.inFlightBytes, item.expectedBytes, 20)} ${formatBytes(item.inFlightBytes)}/${formatBytes(item.expectedBytes)}${rateText(item)}`;
    } else {
      status = itemStatus(item);
    }
    lines.push(fit(label + status, columns).trimEnd());
  }
  if (snapshot.unassignedInFlightBytes > 0) {
    lines.push(`  ↓ ${formatBytes(snapshot.unassignedInFlightBytes)} in downloads under way`);
  }
  for (const r of snapshot.retrying) lines.push(fit(`  ! ${retryLine(r)}`, columns).trimEnd());
  if (snapshot.waitingForWorkerMs !== undefined) lines.push(`  ! ${noWorkerLine(snapshot)}`);
  return lines;
}

function retryLine(r: HarvestSnapshot['retrying'][number]): string {
  return `retrying ${r.type}${r.identifier ? ` for ${r.identifier}` : ''} (attempt ${r.attempt}): ${r.message}`;
}

function noWorkerLine(snapshot: HarvestSnapshot): string {
  return `no worker has picked up the work for ${Math.round((snapshot.waitingForWorkerMs ?? 0) / 1000)} s: is \`dedl-harvest worker\` running on task queue "${snapshot.taskQueue}"?`;
}

export interface ProgressRenderer {
  update(snapshot: HarvestSnapshot): void;
  /** Leaves the last frame on screen and moves below it. */
  finish(): void;
}

/** Progress bars on a TTY, plain lines elsewhere, nothing with `--json`. */
export function createProgressRenderer(stream: OutputStream, options: { json: boolean }): ProgressRenderer {
  if (options.json) return { update: () => undefined, finish: () => undefined };
  return stream.isTTY ? new TerminalRenderer(stream) : new LineRenderer(stream);
}

class TerminalRenderer implements ProgressRenderer {
  private drawn = 0;
  private frame = '';
  constructor(private readonly stream: OutputStream) {}

  update(snapshot: HarvestSnapshot): void {
    const lines = progressBlock(snapshot, Math.max(40, (this.stream.columns || 100) - 1));
    const frame = lines.join('\n');
    if (frame === this.frame && this.drawn === lines.length) return;
    this.frame = frame;
    // Cursor up over the previous frame, clear to the end of the screen, draw the new one.
    const rewind = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    this.stream.write(`${rewind}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  finish(): void {
    this.drawn = 0;
    this.frame = '';
  }
}

/** One line per change, with the time: readable in logs and diffable in tests. */
class LineRenderer implements ProgressRenderer {
  private readonly seen = new Map<string, string>();
  private lastHeadline?: string;
  private readonly retries = new Set<string>();
  private warnedNoWorker = false;

  constructor(private readonly stream: OutputStream) {}

  update(snapshot: HarvestSnapshot): void {
    const now = new Date().toISOString().slice(11, 19);
    const out = (text: string) => this.stream.write(`${now} ${text}\n`);
    const p = snapshot.progress;
    const phase = p
      ? `${p.name}: ${snapshot.status === 'RUNNING' ? p.phase : snapshot.status.toLowerCase()}`
      : undefined;
    if (phase && phase !== this.lastHeadline) {
      out(`${phase}${p?.orderId ? ` (order ${p.orderId})` : ''}`);
      this.lastHeadline = phase;
    }
    for (const item of snapshot.items) {
      // Byte counts change all the time; a plain log shows state changes only.
      const key = `${item.state}|${item.hookStatus ?? ''}|${item.state === 'delivering' ? '' : itemStatus(item)}`;
      if (this.seen.get(item.identifier) === key) continue;
      this.seen.set(item.identifier, key);
      out(`${item.identifier}: ${item.state === 'delivering' ? 'delivering' : itemStatus(item)}`);
    }
    for (const r of snapshot.retrying) {
      const key = `${r.activityId}|${r.attempt}`;
      if (this.retries.has(key)) continue;
      this.retries.add(key);
      out(retryLine(r));
    }
    if (snapshot.waitingForWorkerMs !== undefined && !this.warnedNoWorker) {
      this.warnedNoWorker = true;
      out(noWorkerLine(snapshot));
    }
  }

  finish(): void {}
}

/** The final report for people: a summary line, then one line per item. */
export function formatHarvestReport(report: HarvestReport): string[] {
  const t = report.totals;
  const lines = [
    `Harvest "${report.name}": ${report.outcome} — ${t.delivered} of ${t.items} delivered (${formatBytes(t.bytes)})` +
      `${t.failed ? `, ${t.failed} failed` : ''}${t.undelivered ? `, ${t.undelivered} not delivered` : ''}${t.timedOut ? `, ${t.timedOut} timed out` : ''}${t.cancelled ? `, ${t.cancelled} cancelled` : ''}`,
    `  workflow ${report.workflowId}${report.orderId ? ` · Hook order ${report.orderId}` : ''} · ${report.storage}`,
  ];
  for (const item of report.items) lines.push(...itemLines(item));
  if (report.manifest) lines.push(`  manifest: ${report.manifest}`);
  if (report.manifestError) lines.push(`  manifest not written: ${report.manifestError}`);
  if (t.undelivered) {
    lines.push(`  made by the Hook but not delivered: dedl-harvest redeliver ${report.workflowId} [--sink …]`);
  }
  return lines;
}

function itemLines(item: ItemReport): string[] {
  const mark = STATE_MARK[item.state] ?? '?';
  const lines = [`  ${mark} ${item.identifier}  ${itemStatus(item)}`];
  if (item.state === 'delivered' && item.location) lines.push(`      ${item.location}`);
  for (const object of item.objects ?? []) {
    if (object.location !== item.location) lines.push(`      ${object.location} (${formatBytes(object.size)})`);
  }
  return lines;
}
