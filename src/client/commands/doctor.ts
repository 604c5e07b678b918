/**
 * `dedl-harvest doctor [--capture <dir>]`: first contact with the real services in one command —
 * the checks of doctor/checks.ts as a table (or `--json`), exit 0 when every check passed, 1
 * otherwise; with `--capture`, the answers seen written as fixtures (doctor/capture.ts).
 */
import path from 'node:path';
import { type Command, stringFlag } from '../command';
import { destination } from '../../activities/destinations';
import { loadCredentialStore } from '../../config/credentials';
import { PreflightError, preflightSink } from '../../storage/preflight';
import { type CheckRow, DEFAULT_COLLECTION, type DoctorOptions, runDoctor } from '../doctor/checks';
import { type CapturedFixture, writeCaptures } from '../doctor/capture';
import { ExchangeRecorder } from '../doctor/recorder';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { type OutputStream, line, printJson } from '../io';
import { privateValuesOf, secretsOf, withoutLiterals } from '../secrets';

export const doctorCommand: Command = {
  name: 'doctor',
  usage:
    'doctor [--capture <dir>] [--workflow <name>] [--collection <id>] [--bucket <set>=<bucket>[,…]] [--sink <url> [--sink-credentials <set>]]',
  summary: 'check the login, the Hook, STAC, S3 keys and Temporal with your configuration (read-only, orders nothing)',
  details: [
    'Uses the worker settings (environment and .env): HOOK_AUTH and its credentials, the Hook and STAC URLs,',
    'the DEDL_CREDENTIALS_* sets and TEMPORAL_*. Prints one row per check with the fix for each failure; a check',
    'that needs an earlier one that failed is skipped. Exit code 0 when every check passed, 1 otherwise.',
  ].join('\n'),
  flags: {
    capture: {
      type: 'string',
      value: '<dir>',
      description: 'also write the answers seen (tokens, Workflows, STAC) as fixtures, secrets replaced',
    },
    workflow: {
      type: 'string',
      value: '<name>',
      description: 'Hook workflow whose options are read (default data-harvest)',
    },
    collection: {
      type: 'string',
      value: '<id>',
      description: `collection of the STAC search (default ${DEFAULT_COLLECTION})`,
    },
    bucket: {
      type: 'string',
      value: '<set>=<bucket>',
      description: "list this bucket with the set's S3 keys instead of ListBuckets (comma-separated)",
    },
    sink: {
      type: 'string',
      value: '<url>',
      description: 'also check that this sink (file:// or s3://) can be written, as a harvest does before ordering',
    },
    'sink-credentials': {
      type: 'string',
      value: '<set>',
      description: 'the credential set of an s3:// --sink',
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const { env, cwd } = ctx.io;
    const captureDir = stringFlag(ctx.flags, 'capture');
    const recorder = captureDir ? new ExchangeRecorder() : undefined;
    const report = await runDoctor({
      env,
      cwd,
      workflow: stringFlag(ctx.flags, 'workflow'),
      collection: stringFlag(ctx.flags, 'collection'),
      buckets: parseBuckets(stringFlag(ctx.flags, 'bucket')),
      recorder,
      ...sinkOptions(stringFlag(ctx.flags, 'sink'), stringFlag(ctx.flags, 'sink-credentials'), env),
    });
    let captured: CapturedFixture[] | undefined;
    if (captureDir && recorder && report.config) {
      const dir = path.resolve(cwd, captureDir);
      captured = await writeCaptures(dir, recorder.exchanges, report.config.endpoints, privateValuesOf(env));
    }
    const secrets = secretsOf(env);
    const rows = report.rows.map((row) => scrubRow(row, secrets));
    if (ctx.json) {
      printJson(ctx.io.stdout, {
        ok: report.ok,
        checks: rows,
        ...(captured ? { captured: captured.map((c) => ({ ...c, file: path.relative(cwd, c.file) || c.file })) } : {}),
      });
    } else {
      printTable(ctx.io.stdout, rows);
      if (captureDir) printCaptured(ctx.io.stdout, captured, cwd);
    }
    return report.ok ? EXIT.OK : EXIT.ERROR;
  },
};

/** The sink row: the preflight a harvest runs before ordering (storage/preflight.ts), on `--sink`. */
function sinkOptions(
  url: string | undefined,
  credentials: string | undefined,
  env: NodeJS.ProcessEnv,
): Pick<DoctorOptions, 'sinks' | 'sinkPreflight'> {
  if (!url) return {};
  return {
    sinks: [{ url, credentials }],
    async sinkPreflight(sink) {
      const store = loadCredentialStore(env);
      const unknown = sink.credentials ? store.check(sink.credentials, 's3') : undefined;
      if (unknown) return { ok: false, detail: unknown, fix: 'define the credential set (DEDL_CREDENTIALS_<SET>_*)' };
      try {
        const passed = await preflightSink(destination('--sink', sink.url, sink.credentials, store));
        return { ok: true, detail: passed.checks.join('; ') };
      } catch (err) {
        if (err instanceof PreflightError) return { ok: false, detail: err.reason, fix: err.fix };
        throw err;
      }
    },
  };
}

function parseBuckets(flag: string | undefined): Record<string, string> {
  if (!flag) return {};
  return Object.fromEntries(
    flag.split(',').map((pair) => {
      const [set, bucket] = pair.split('=');
      if (!set || !bucket) throw new UsageError(`--bucket takes <set>=<bucket>[,…], got "${pair}"`);
      return [set.trim(), bucket.trim()];
    }),
  );
}

/**
 * Rows are built from our own messages and already-redacted errors; only a literal secret could
 * still come back inside a server's words. (Pattern redaction would mask our own text, e.g. the
 * "required" of "DESP_PASSWORD: required when HOOK_AUTH=desp".)
 */
function scrubRow(row: CheckRow, secrets: readonly string[]): CheckRow {
  return {
    ...row,
    detail: withoutLiterals(row.detail, secrets),
    ...(row.fix ? { fix: withoutLiterals(row.fix, secrets) } : {}),
  };
}

const RESULT = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;

export function printTable(out: OutputStream, rows: readonly CheckRow[]): void {
  const width = Math.max(...rows.map((r) => r.name.length), 5) + 2;
  const indent = ' '.repeat(2 + width + 8);
  line(out, 'dedl-harvest doctor: read-only checks with your configuration (nothing is ordered)');
  line(out);
  line(out, `  ${'CHECK'.padEnd(width)}${'RESULT'.padEnd(8)}DETAIL`);
  for (const row of rows) {
    line(out, `  ${row.name.padEnd(width)}${RESULT[row.status].padEnd(8)}${row.detail}`);
    if (row.fix) line(out, `${indent}fix: ${row.fix}`);
  }
  line(out);
  const failed = rows.filter((r) => r.status === 'fail').length;
  const skipped = rows.filter((r) => r.status === 'skip').length;
  const passed = rows.length - failed - skipped;
  line(
    out,
    failed === 0
      ? `${passed} of ${rows.length} checks passed${skipped ? `, ${skipped} skipped (see why above)` : ''}.`
      : `${failed} failed, ${passed} passed, ${skipped} skipped: apply the fixes above and run dedl-harvest doctor again.`,
  );
}

function printCaptured(out: OutputStream, captured: CapturedFixture[] | undefined, cwd: string): void {
  line(out);
  if (!captured?.length) {
    line(out, 'Nothing captured (no service answered).');
    return;
  }
  line(out, `Captured ${captured.length} answers (secrets and personal values replaced by "<…>"):`);
  for (const c of captured) line(out, `  ${path.relative(cwd, c.file) || c.file}  ${c.what}`);
}
