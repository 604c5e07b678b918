/**
 * One face for the two kinds of sink a product can land in — a local folder (`file:///dir`) or an
 * S3 prefix (`s3://bucket/prefix`) — so the download activity does not care which it writes to.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3CredentialSet } from '../config/credentials';
import type { VerificationRecord } from '../storage/integrity';
import { LocalSink, type PartFile } from '../storage/local-sink';
import { writeManifest } from '../storage/manifest';
import { createS3Client } from '../storage/s3-client';
import { abortMultipartUpload } from '../storage/s3-multipart';
import { S3Sink, type S3UploadCheckpoint } from '../storage/s3-sink';

export interface SinkFillOptions {
  expect: { contentLength?: number; processedSize?: number };
  signal: AbortSignal;
  keepPartialOnFailure: (err: unknown) => boolean;
  onProgress: (bytes: number) => void;
  /** S3 sinks: called with a resumable state after each stored part. */
  onCheckpoint: (checkpoint: S3UploadCheckpoint) => void;
}

export interface SinkPart {
  /** A local sink's `.part` file, for deliveries that write ranges at their own offsets. */
  readonly local?: PartFile;
  /** Bytes already stored by an earlier attempt: resume from here. */
  readonly offset: number;
  /** Drops what an earlier attempt stored, to start from the first byte. */
  truncate(): Promise<void>;
  close(): Promise<void>;
  fill(
    body: AsyncIterable<Uint8Array>,
    options: SinkFillOptions,
  ): Promise<{ location: string; verification: VerificationRecord }>;
}

export interface SinkTarget {
  /** Opens a product for writing; `checkpoint` is an S3 sink's saved upload state, if any. */
  open(name: string, checkpoint?: S3UploadCheckpoint): Promise<SinkPart>;
  /** Removes what a failed or cancelled transfer left (a `.part` file, unfinished multipart uploads). */
  removePartial(name: string): Promise<void>;
  /** Writes the report as manifest.json next to the products; returns its location. */
  writeManifest(report: unknown): Promise<string>;
  close(): void;
}

export async function openSinkTarget(sinkUrl: string, s3?: S3CredentialSet, endpoint?: string): Promise<SinkTarget> {
  if (sinkUrl.startsWith('file://')) return localTarget(await LocalSink.create(fileURLToPath(sinkUrl)));
  if (sinkUrl.startsWith('s3://')) {
    if (!s3) throw new Error(`an s3:// sink needs credentials (${sinkUrl})`);
    const client = createS3Client({ ...s3, endpoint: s3.endpoint ?? endpoint });
    return s3Target(client, S3Sink.fromUrl(client, sinkUrl));
  }
  throw new Error(`unsupported sink ${JSON.stringify(sinkUrl)}`);
}

function localTarget(sink: LocalSink): SinkTarget {
  return {
    async open(name) {
      const part = await sink.open(name, { resume: true });
      return {
        local: part,
        get offset() {
          return part.offset;
        },
        truncate: () => part.truncate(),
        close: () => part.close(),
        async fill(body, options) {
          const delivered = await part.fill(body, options);
          return { location: pathToFileURL(delivered.path).toString(), verification: delivered.verification! };
        },
      };
    },
    async removePartial(name) {
      await sink.removePartial(name);
    },
    async writeManifest(report) {
      return pathToFileURL((await writeManifest(sink.dir, report)).location).toString();
    },
    close: () => undefined,
  };
}

function s3Target(client: S3Client, sink: S3Sink): SinkTarget {
  // Finds the unfinished uploads of a key (without an attempt's checkpoint) and aborts them all.
  const abortUnfinished = async (name: string) => {
    const key = sink.keyFor(name);
    const listing = await client.send(new ListMultipartUploadsCommand({ Bucket: sink.bucket, Prefix: key }));
    for (const upload of listing.Uploads ?? []) {
      if (upload.Key === key && upload.UploadId) await abortMultipartUpload(client, sink.bucket, key, upload.UploadId);
    }
  };
  return {
    async open(name, checkpoint) {
      const point = await sink.prepareResume(name, checkpoint);
      let resume = point.checkpoint;
      return {
        get offset() {
          return resume?.bytes ?? 0;
        },
        async truncate() {
          if (resume) await sink.abort(resume);
          resume = undefined;
        },
        close: async () => undefined,
        async fill(body, options) {
          const delivered = await sink.upload(name, body, {
            expect: options.expect,
            resume,
            signal: options.signal,
            keepForResume: options.keepPartialOnFailure,
            onProgress: options.onProgress,
            onCheckpoint: options.onCheckpoint,
          });
          // An earlier attempt lost before its checkpoint reached Temporal (a killed worker) left an
          // upload this one could not resume: with the object complete, nothing needs it any more.
          await abortUnfinished(name);
          return { location: delivered.location, verification: delivered.verification! };
        },
      };
    },
    removePartial: abortUnfinished,
    async writeManifest(report) {
      const prefix = sink.prefix ? `s3://${sink.bucket}/${sink.prefix}` : `s3://${sink.bucket}`;
      return (await writeManifest(prefix, report, { s3: client })).location;
    },
    close: () => client.destroy(),
  };
}
