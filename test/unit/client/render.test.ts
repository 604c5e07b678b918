import { EXIT, exitCodeForReport } from '../../../src/client/exit-codes';
import type { HarvestSnapshot } from '../../../src/client/progress';
import {
  createProgressRenderer,
  formatBytes,
  formatEta,
  formatHarvestReport,
  itemStatus,
  progressBlock,
} from '../../../src/client/render';
import { defaultWorkflowId } from '../../../src/client/start-harvest';
import { type HarvestReport, type ItemReport, summarize } from '../../../src/shared/harvest-report';

const A = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const B = 'S2B_MSIL1C_20241230T094553_N0511_R091_T32UMA_20241230T122947.SAFE';

function report(items: ItemReport[], outcome: HarvestReport['outcome']): HarvestReport {
  return {
    name: 'render test',
    workflowId: 'harvest-render-test-abc123',
    orderId: '10000',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    storage: 'TEMPORARY',
    outcome,
    items,
    totals: summarize(items),
    startedAt: '2026-11-27T10:00:00.000Z',
  };
}

function snapshot(items: HarvestSnapshot['items'], extra: Partial<HarvestSnapshot> = {}): HarvestSnapshot {
  const progress = { ...report(items, 'partial'), phase: 'polling' as const };
  return {
    workflowId: 'harvest-render-test-abc123',
    runId: 'run',
    status: 'RUNNING',
    taskQueue: 'dedl-harvest',
    historyLength: 20,
    startTime: '2026-11-27T10:00:00.000Z',
    progress,
    items,
    downloads: [],
    retrying: [],
    unassignedInFlightBytes: 0,
    ...extra,
  };
}

describe('exit codes', () => {
  const item = (state: ItemReport['state']): ItemReport => ({ identifier: `${state}-${Math.random()}`, state });
  it.each([
    [['delivered', 'delivered'], 'delivered', EXIT.OK],
    [['delivered', 'failed'], 'partial', EXIT.ITEMS_FAILED],
    [['failed'], 'failed', EXIT.ITEMS_FAILED],
    [['delivered', 'timed_out'], 'partial', EXIT.CANCELLED],
    [['timed_out'], 'timed_out', EXIT.CANCELLED],
    [['cancelled'], 'cancelled', EXIT.CANCELLED],
    [['failed', 'timed_out'], 'failed', EXIT.ITEMS_FAILED],
  ] as const)('%j (%s) → %i', (states, outcome, code) => {
    expect(exitCodeForReport(report(states.map(item), outcome))).toBe(code);
  });
});

describe('workflow ids', () => {
  it('derive from the name, with a short random suffix', () => {
    expect(defaultWorkflowId('S2 Alps / 2023-09!', () => 'f00d42')).toBe('harvest-s2-alps-2023-09-f00d42');
    expect(defaultWorkflowId('---', () => 'f00d42')).toBe('harvest-request-f00d42');
    expect(defaultWorkflowId('x')).toMatch(/^harvest-x-[0-9a-f]{6}$/);
    expect(defaultWorkflowId('x')).not.toBe(defaultWorkflowId('x'));
  });
});

describe('rendering', () => {
  it('formats sizes', () => {
    expect([0, 1023, 1024, 300_000, 16 * 1024 * 1024, 5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '293 KiB',
      '16 MiB',
      '5.0 GiB',
    ]);
  });

  it('draws a progress bar for a running download, with the bytes from its heartbeat', () => {
    const lines = progressBlock(
      snapshot([
        {
          identifier: A,
          state: 'delivering',
          hookStatus: 'completed',
          inFlightBytes: 5 * 1024 * 1024,
          expectedBytes: 20 * 1024 * 1024,
        },
        { identifier: B, state: 'ordered', hookStatus: 'in_progress' },
      ]),
      160,
    );
    expect(lines[0]).toBe('render test · polling · order 10000 · 0 of 2 delivered · 5.0 MiB');
    expect(lines[1]).toContain(`↓ ${A}  [█████░░░░░░░░░░░░░░░]  25% 5.0 MiB/20 MiB`);
    expect(lines[2]).toContain(`· ${B}`);
    expect(lines[2]).toContain('in progress at the Hook');
  });

  it("shows a running download's rate and time left beside its bytes", () => {
    const lines = progressBlock(
      snapshot([
        {
          identifier: A,
          state: 'delivering',
          inFlightBytes: 5 * 1024 * 1024,
          expectedBytes: 20 * 1024 * 1024,
          bytesPerSecond: 2.5 * 1024 * 1024,
          etaSeconds: 65,
        },
      ]),
      200,
    );
    expect(lines[1]).toContain('5.0 MiB/20 MiB · 2.5 MiB/s · 1m 05s left');
    expect(itemStatus({ identifier: A, state: 'delivering', inFlightBytes: 1024, bytesPerSecond: 2048 })).toBe(
      'downloading 1.0 KiB · 2.0 KiB/s',
    );
    expect([formatEta(45), formatEta(3 * 3600 + 7 * 60)]).toEqual(['45s', '3h 07m']);
  });

  it('shows retrying activities and a missing worker', () => {
    const lines = progressBlock(
      snapshot([{ identifier: A, state: 'delivering' }], {
        retrying: [{ activityId: '7', type: 'deliverProduct', identifier: A, attempt: 3, message: 'connection reset' }],
        waitingForWorkerMs: 12_000,
      }),
      200,
    );
    expect(lines).toContain(`  ! retrying deliverProduct for ${A} (attempt 3): connection reset`);
    expect(lines.at(-1)).toContain('no worker has picked up the work for 12 s');
    expect(lines.at(-1)).toContain('task queue "dedl-harvest"');
  });

  it('writes one plain line per change when not on a terminal', () => {
    const written: string[] = [];
    const renderer = createProgressRenderer({ write: (t: string) => written.push(t), isTTY: false }, { json: false });
    const ordered = snapshot([{ identifier: A, state: 'ordered', hookStatus: 'queued' }]);
    renderer.update(ordered);
    renderer.update(ordered);
    renderer.update(snapshot([{ identifier: A, state: 'delivering', inFlightBytes: 10, expectedBytes: 100 }]));
    renderer.update(snapshot([{ identifier: A, state: 'delivering', inFlightBytes: 90, expectedBytes: 100 }]));
    renderer.update(snapshot([{ identifier: A, state: 'delivered', bytes: 100, sha256: 'ab'.repeat(32) }]));
    const text = written.map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(text).toEqual([
      'render test: polling (order 10000)\n',
      `${A}: queued at the Hook\n`,
      `${A}: delivering\n`,
      `${A}: delivered 100 B sha256 abababababab…\n`,
    ]);
  });

  it('redraws in place on a terminal, and writes nothing with --json', () => {
    const written: string[] = [];
    const tty = createProgressRenderer(
      { write: (t: string) => written.push(t), isTTY: true, columns: 120 },
      { json: false },
    );
    tty.update(snapshot([{ identifier: A, state: 'ordered' }]));
    tty.update(snapshot([{ identifier: A, state: 'ordered', hookStatus: 'queued' }]));
    tty.update(snapshot([{ identifier: A, state: 'ordered', hookStatus: 'queued' }])); // unchanged: not redrawn
    expect(written).toHaveLength(2);
    expect(written[0]!.startsWith('\x1b[')).toBe(false);
    expect(written[1]!.startsWith('\x1b[2A\r\x1b[J')).toBe(true);
    expect(written[1]).toContain('queued at the Hook');

    const none: string[] = [];
    createProgressRenderer({ write: (t: string) => none.push(t), isTTY: true }, { json: true }).update(snapshot([]));
    expect(none).toEqual([]);
  });

  it('prints the report: summary, one line per item, locations and errors', () => {
    const lines = formatHarvestReport(
      report(
        [
          {
            identifier: A,
            state: 'delivered',
            bytes: 2048,
            sha256: 'cd'.repeat(32),
            location: `file:///data/${A}.zip`,
          },
          { identifier: B, state: 'failed', error: "Item 'B' not found" },
        ],
        'partial',
      ),
    );
    expect(lines).toEqual([
      'Harvest "render test": partial — 1 of 2 delivered (2.0 KiB), 1 failed',
      '  workflow harvest-render-test-abc123 · Hook order 10000 · TEMPORARY',
      `  ✔ ${A}  delivered 2.0 KiB sha256 cdcdcdcdcdcd…`,
      `      file:///data/${A}.zip`,
      `  ✘ ${B}  failed: Item 'B' not found`,
    ]);
  });
});
