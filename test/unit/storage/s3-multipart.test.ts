/**
 * multipartUpload's part scheduling, on a stand-in S3 client whose part uploads finish when the
 * test says so (the order and overlap of real uploads cannot be chosen). The upload against a
 * real server is covered in test/integration/s3-versitygw.test.ts and storage/s3-sink.test.ts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { MIN_PART_SIZE, type MultipartState, multipartUpload } from '../../../src/storage/s3-multipart';

interface PendingPart {
  partNumber: number;
  finish: () => void;
  fail: (err: Error) => void;
}

/** Records every command; UploadPart stays pending until the test finishes or fails it. */
function scriptedS3() {
  const events: string[] = [];
  const pending: PendingPart[] = [];
  const waiters: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      if (name === 'CreateMultipartUploadCommand') return Promise.resolve({ UploadId: 'upload-1' });
      if (name === 'UploadPartCommand') {
        const partNumber = command.input.PartNumber as number;
        events.push(`start ${partNumber}`);
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        return new Promise((resolve, reject) => {
          pending.push({
            partNumber,
            finish: () => {
              inFlight--;
              events.push(`stored ${partNumber}`);
              resolve({ ETag: `"etag-${partNumber}"` });
            },
            fail: (err) => {
              inFlight--;
              events.push(`failed ${partNumber}`);
              reject(err);
            },
          });
          waiters.splice(0).forEach((wake) => wake());
        });
      }
      if (name === 'CompleteMultipartUploadCommand') {
        const parts = (command.input.MultipartUpload as { Parts: Array<{ PartNumber: number }> }).Parts;
        events.push(`complete ${parts.map((p) => p.PartNumber).join(',')}`);
        return Promise.resolve({ ETag: '"whole"' });
      }
      if (name === 'AbortMultipartUploadCommand') {
        events.push('abort');
        return Promise.resolve({});
      }
      return Promise.reject(new Error(`unexpected ${name}`));
    },
  };
  /** Resolves once `count` part uploads are waiting to be finished. */
  const partsWaiting = async (count: number): Promise<PendingPart[]> => {
    while (pending.length < count) await new Promise<void>((wake) => waiters.push(wake));
    return pending;
  };
  const take = (partNumber: number): PendingPart => {
    const index = pending.findIndex((p) => p.partNumber === partNumber);
    if (index < 0) throw new Error(`part ${partNumber} is not in flight`);
    return pending.splice(index, 1)[0]!;
  };
  return { s3: client as unknown as S3Client, events, partsWaiting, take, mostInFlight: () => mostInFlight };
}

/** Lets every promise callback and I/O callback that is ready run (a turn of the event loop). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `parts` whole parts of MIN_PART_SIZE bytes, in 1 MiB chunks. */
async function* body(parts: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (let i = 0; i < (parts * MIN_PART_SIZE) / chunk.length; i++) {
    signal?.throwIfAborted();
    yield chunk;
  }
}

describe('multipartUpload part scheduling', () => {
  it('sends parts at once up to the limit and reports only the unbroken run from the first', async () => {
    const fake = scriptedS3();
    const reported: number[][] = [];
    const upload = multipartUpload({
      s3: fake.s3,
      bucket: 'b',
      key: 'k',
      body: body(4),
      partSize: MIN_PART_SIZE,
      partConcurrency: 3,
      onPart: (state: MultipartState) => void reported.push(state.parts.map((p) => p.PartNumber)),
    });
    await fake.partsWaiting(3);
    fake.take(2).finish(); // stored ahead of part 1: nothing to report yet
    await fake.partsWaiting(3); // part 4 went out in part 2's place
    fake.take(3).finish();
    fake.take(1).finish(); // now 1, 2, 3 are unbroken
    await fake.partsWaiting(1);
    fake.take(4).finish();
    await expect(upload).resolves.toMatchObject({ parts: 4, size: 4 * MIN_PART_SIZE });

    expect(fake.mostInFlight()).toBe(3);
    expect(reported).toEqual([
      [1, 2, 3],
      [1, 2, 3, 4],
    ]);
    expect(fake.events.indexOf('start 4')).toBeGreaterThan(fake.events.indexOf('stored 2'));
    expect(fake.events.at(-1)).toBe('complete 1,2,3,4');
  });

  it('a failed part stops the upload; it is aborted only after the other parts in flight end', async () => {
    const fake = scriptedS3();
    const upload = multipartUpload({
      s3: fake.s3,
      bucket: 'b',
      key: 'k',
      body: body(5),
      partSize: MIN_PART_SIZE,
      partConcurrency: 3,
    });
    const failure = upload.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await fake.partsWaiting(3);
    fake.take(2).fail(new Error('part 2 refused'));
    await settled();
    expect(fake.events).not.toContain('abort'); // parts 1 and 3 are still on their way
    fake.take(3).finish();
    await settled();
    expect(fake.events).not.toContain('abort'); // part 1 still is
    fake.take(1).finish();
    expect(await failure).toMatchObject({ message: 'part 2 refused' });

    expect(fake.events).not.toContain('start 4');
    expect(fake.events.some((e) => e.startsWith('complete'))).toBe(false);
    expect(fake.events.at(-1)).toBe('abort');
  });

  it('cancellation sends no more parts and waits for those in flight before aborting', async () => {
    const fake = scriptedS3();
    const controller = new AbortController();
    const upload = multipartUpload({
      s3: fake.s3,
      bucket: 'b',
      key: 'k',
      body: body(6, controller.signal),
      partSize: MIN_PART_SIZE,
      partConcurrency: 2,
      signal: controller.signal,
    });
    const failure = upload.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await fake.partsWaiting(2);
    controller.abort();
    fake.take(1).finish();
    await settled();
    expect(fake.events).not.toContain('abort'); // part 2 is still on its way
    fake.take(2).finish();
    expect(await failure).toMatchObject({ name: 'AbortError' });

    expect(fake.events).toEqual(['start 1', 'start 2', 'stored 1', 'stored 2', 'abort']);
  });

  it('refuses a part concurrency that is not a positive integer', async () => {
    const fake = scriptedS3();
    await expect(
      multipartUpload({ s3: fake.s3, bucket: 'b', key: 'k', body: body(1), partConcurrency: 0 }),
    ).rejects.toThrow('partConcurrency must be a positive integer, got 0');
    expect(fake.events).toEqual([]); // refused before any upload was created
  });
});
