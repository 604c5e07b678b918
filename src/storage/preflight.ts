/**
 * Preflight: can this destination take products, checked before anything is ordered?
 *
 * API (also used by `dedl-harvest doctor`'s sink row):
 *
 *   preflightSink({ field, url, s3?, expectedBytes?, signal? }) → Promise<PreflightOk>
 *
 * - `field` is the request field the destination came from (`output.sink`, `output.target`,
 *   `output.download`, `ledger.url`); every error names it.
 * - `url` is `file:///folder` or `s3://bucket/prefix`; `s3` the keys and endpoint for `s3://`.
 * - Resolves with the checks that passed. Rejects with a {@link PreflightError} (`field`,
 *   `reason`, `fix`, `code`) when the destination cannot work however often it is tried (a file
 *   in the path, no permission, read-only, missing bucket, wrong keys) or has no room. Any other
 *   error (5xx, SlowDown, a reset connection) is rethrown as it is: transient, retry it.
 *
 * What is checked, and the permission each check needs:
 * - folder: created if missing (mkdir -p), a probe file written, fsynced and removed (write
 *   permission on the folder; on Linux the probe has no name, O_TMPFILE, so nothing can be left
 *   behind); free space ≥ `expectedBytes` when given (statfs).
 * - S3 prefix: a probe object put under the prefix (`s3:PutObject`), deleted (`s3:DeleteObject`),
 *   and the prefix listed (`s3:ListBucket`, which harvests use to find PRIVATE outputs, resume
 *   uploads and read the ledger). A missing bucket answers NoSuchBucket to the first of them.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { type S3Connection, createS3Client, parseS3Url } from './s3-client';
import { classifySinkError } from './sink-errors';

export interface SinkDescription {
  /** The request field the destination came from, e.g. `output.sink`. */
  field: string;
  /** `file:///folder` or `s3://bucket/prefix`. */
  url: string;
  /** Keys and endpoint, for an `s3://` URL. */
  s3?: S3Connection;
  /** Bytes the products will need, when known: a folder must have that much free space. */
  expectedBytes?: number;
  signal?: AbortSignal;
}

export interface PreflightOk {
  field: string;
  url: string;
  /** The checks that passed, in words (e.g. "probe object put and deleted"). */
  checks: string[];
}

/** A destination that cannot take products: permanent, so the request must change. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError' as const;

  constructor(
    readonly field: string,
    /** What is wrong, with the errno or S3 error name that said so. */
    readonly reason: string,
    /** What the user can do about it. */
    readonly fix: string,
    readonly code: string,
  ) {
    super(`${field}: ${reason} (${fix})`);
  }
}

/** Name of a named probe file; starts with a dot so listings of products skip it. */
const probeName = () => `.dedl-preflight-${randomUUID()}`;
/** Key of the S3 probe object under the prefix. */
const S3_PROBE = '.dedl-preflight';

export async function preflightSink(sink: SinkDescription): Promise<PreflightOk> {
  if (sink.url.startsWith('file://')) return preflightFolder(sink);
  if (sink.url.startsWith('s3://')) return preflightS3(sink);
  throw new PreflightError(
    sink.field,
    `unsupported destination ${JSON.stringify(sink.url)}`,
    'use file:// or s3://',
    'URL',
  );
}

async function preflightFolder(sink: SinkDescription): Promise<PreflightOk> {
  const dir = fileURLToPath(sink.url);
  const step = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (err) {
      throw asPreflightError(sink.field, `${what} ${dir}`, err);
    }
  };
  await step('cannot create the folder', () => mkdir(dir, { recursive: true }));
  await step('cannot write a file in', () => writeProbe(dir));
  const checks = ['folder created or present', 'probe file written, fsynced and removed'];
  if (sink.expectedBytes !== undefined) {
    const stats = await step('cannot read the free space of', () => statfs(dir));
    const free = stats.bavail * stats.bsize;
    if (free < sink.expectedBytes) {
      throw new PreflightError(
        sink.field,
        `not enough room in ${dir}: the products need ${sink.expectedBytes} bytes, ${free} are free`,
        'free space or choose another folder',
        'ENOSPC',
      );
    }
    checks.push(`${free} bytes free for ${sink.expectedBytes} expected`);
  }
  return { field: sink.field, url: sink.url, checks };
}

/** Linux's O_TMPFILE (with O_DIRECTORY): a file without a name, gone when closed. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;
/** What a filesystem without O_TMPFILE answers (older kernels: EISDIR). */
const NO_TMPFILE = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EISDIR', 'EINVAL']);

/**
 * Writes, fsyncs and removes a probe. On Linux the probe has no name (O_TMPFILE), so a worker
 * killed half-way leaves nothing in the user's folder; elsewhere, a named probe is removed.
 */
async function writeProbe(dir: string): Promise<void> {
  const fill = async (handle: FileHandle) => {
    try {
      await handle.writeFile('dedl-harvest preflight\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  if (process.platform === 'linux') {
    try {
      return await fill(await open(dir, O_TMPFILE | constants.O_WRONLY, 0o600));
    } catch (err) {
      if (!NO_TMPFILE.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
  const probe = path.join(dir, probeName());
  await fill(await open(probe, 'wx', 0o600));
  await unlink(probe);
}

async function preflightS3(sink: SinkDescription): Promise<PreflightOk> {
  if (!sink.s3)
    throw new PreflightError(
      sink.field,
      'an s3:// destination needs credentials',
      'name a credential set',
      'NoCredentials',
    );
  let target: { bucket: string; prefix: string };
  try {
    target = parseS3Url(sink.url);
  } catch (err) {
    throw new PreflightError(sink.field, (err as Error).message, 'write it as s3://bucket/prefix', 'InvalidBucketName');
  }
  const { bucket, prefix } = target;
  // One fixed key per prefix: concurrent probes overwrite and delete it harmlessly (deleting a
  // missing key succeeds), and one left by a worker killed half-way goes with the next probe.
  const key = prefix ? `${prefix}/${S3_PROBE}` : S3_PROBE;
  const s3 = createS3Client(sink.s3);
  const where = `s3://${bucket}/${prefix}`;
  const step = async (what: string, body: () => Promise<unknown>) => {
    try {
      await body();
    } catch (err) {
      throw asPreflightError(sink.field, `${what} ${where}`, err);
    }
  };
  const options = { abortSignal: sink.signal };
  try {
    await step('cannot put an object under', () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'dedl-harvest preflight\n' }), options),
    );
    await step('cannot delete an object under', () =>
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), options),
    );
    await step('cannot list', () =>
      s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : undefined, MaxKeys: 1 }),
        options,
      ),
    );
  } finally {
    s3.destroy();
  }
  return { field: sink.field, url: sink.url, checks: ['probe object put and deleted', 'prefix listed'] };
}

/** A permanent cause or a full disk becomes a PreflightError; anything else is rethrown for a retry. */
function asPreflightError(field: string, what: string, err: unknown): unknown {
  const cause = classifySinkError(err);
  if (cause.kind === 'transient') return err;
  return new PreflightError(field, `${what}: ${cause.code}`, cause.fix!, cause.code);
}
