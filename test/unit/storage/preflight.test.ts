/**
 * Preflight of a local folder (storage/preflight.ts) and the sink error classifier
 * (storage/sink-errors.ts): which causes are permanent, which are a full disk, which are transient.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { preflightProblems } from '../../../src/activities/destinations';
import { PreflightError, preflightSink } from '../../../src/storage/preflight';
import { classifySinkError } from '../../../src/storage/sink-errors';

describe('preflight of a folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dedl-preflight-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates a missing folder, writes and removes its probe, and leaves nothing behind', async () => {
    const folder = path.join(dir, 'a', 'b');
    const ok = await preflightSink({ field: 'output.sink', url: pathToFileURL(folder).toString(), expectedBytes: 1 });
    expect(ok.field).toBe('output.sink');
    expect(ok.checks).toEqual(expect.arrayContaining(['probe file written, fsynced and removed']));
    expect(await readdir(folder)).toEqual([]);
  });

  it('refuses a path through a file (ENOTDIR), naming the field, the cause and a fix', async () => {
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'x');
    const err = await preflightSink({
      field: 'output.sink',
      url: pathToFileURL(path.join(file, 'inside')).toString(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect(err).toMatchObject({ field: 'output.sink', code: 'ENOTDIR' });
    expect((err as PreflightError).message).toMatch(/^output\.sink: cannot create the folder .*: ENOTDIR \(.+\)$/);
    expect((err as PreflightError).fix).toContain('choose another folder');
  });

  it('refuses a folder without room for the expected size', async () => {
    const err = await preflightSink({
      field: 'output.download',
      url: pathToFileURL(dir).toString(),
      expectedBytes: Number.MAX_SAFE_INTEGER,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PreflightError', field: 'output.download', code: 'ENOSPC' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('as validation problems, keeps secrets out (an InvalidRequest is not redacted later)', async () => {
    const file = path.join(dir, 'hunter2-secret');
    await writeFile(file, 'x');
    const problems = await preflightProblems(
      [{ field: 'output.sink', url: pathToFileURL(path.join(file, 'in')).toString() }],
      {
        secrets: ['hunter2-secret'],
      },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^output\.sink: .*ENOTDIR/);
    expect(problems[0]).not.toContain('hunter2-secret');
  });

  it('refuses an s3:// destination without credentials and an unknown scheme', async () => {
    await expect(preflightSink({ field: 'ledger.url', url: 's3://bucket/p' })).rejects.toMatchObject({
      field: 'ledger.url',
      code: 'NoCredentials',
    });
    await expect(preflightSink({ field: 'output.sink', url: 'ftp://x/y' })).rejects.toBeInstanceOf(PreflightError);
  });
});

describe('classifySinkError', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  const s3 = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['ENOTDIR', 'permanent', errno('ENOTDIR')],
    ['EACCES', 'permanent', errno('EACCES')],
    ['EROFS', 'permanent', errno('EROFS')],
    ['ENOSPC', 'disk_full', errno('ENOSPC')],
    ['EDQUOT', 'disk_full', errno('EDQUOT')],
    ['ECONNRESET', 'transient', errno('ECONNRESET')],
    ['NoSuchBucket', 'permanent', s3('NoSuchBucket', 404)],
    ['HEAD 404', 'permanent', s3('NotFound', 404)],
    ['AccessDenied', 'permanent', s3('AccessDenied', 403)],
    ['InvalidAccessKeyId', 'permanent', s3('InvalidAccessKeyId', 403)],
    ['SignatureDoesNotMatch', 'permanent', s3('SignatureDoesNotMatch', 403)],
    ['SlowDown', 'transient', s3('SlowDown', 503)],
    ['InternalError', 'transient', s3('InternalError', 500)],
    ['NoSuchKey', 'transient', s3('NoSuchKey', 404)],
    ['a plain error', 'transient', new Error('boom')],
  ])('%s is %s', (_label, kind, err) => {
    expect(classifySinkError(err).kind).toBe(kind);
  });

  it('gives a fix for every permanent and disk-full cause', () => {
    for (const err of [errno('EROFS'), errno('ENOSPC'), s3('NoSuchBucket', 404), s3('Whatever', 403)]) {
      expect(classifySinkError(err).fix).toMatch(/\w/);
    }
  });
});
