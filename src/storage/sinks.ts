/**
 * One face for the places the delivery activities write to and read from — a local folder
 * (`file:///dir`) or an S3 prefix (`s3://bucket/prefix`) as a product's sink, and a PRIVATE order's
 * output bucket — so the activities do not care which it is, and never hold an S3 client themselves.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3CredentialSet } from '../config/credentials';
import type { VerificationRecord } from './integrity';
import { LocalSink, type PartFile } from './local-sink';
import { MANIFEST_NAME, writeManifest } from './manifest';
import {
  type PrivateDownload,
  type PrivateOutputReport,
  type VerifyPrivateOutputOptions,
  downloadPrivateOutput,
  listStacSidecars,
  verifyPrivateOutput,
} from './private-output';
import { createS3Client, parseS3Url } from './s3-client';
import { abortMultipartUpload } from './s3-multipart';
import { S3RangedUpload } from './s3-ranged';
import { S3Sink, type S3UploadCheckpoint } from './s3-sink';
import { safeFileName } from './safe-name';
import { removeUnpackLeftovers } from './unpack-s3';

export interface SinkFillOptions {
  expect: { contentLength?: number; processedSize?: number };
  signal: AbortSignal;
  keepPartialOnFailure: (err: unknown) => boolean;
  onProgress: (bytes: number) => void;
  /** S3 sinks: called with a resumable state after each stored part. */
  onCheckpoint: (checkpoint: S3UploadCheckpoint) => void;
  /** Local sinks: the body's chunks are this delivery's alone, freed once written (local-sink.ts `releaseChunks`). */
  releaseChunks?: boolean;
}

export interface SinkPart {
  /** A local sink's `.part` file, for deliveries that write ranges at their own offsets. */
  readonly local?: PartFile;
  /** An S3 sink's product, for deliveries in parallel ranges (one multipart part per range). */
  readonly s3?: {
    /** The upload the ranges go into: the confirmed checkpoint's, or a new one. */
    ranges(onStored: () => void): S3RangedUpload;
    /** Aborts every unfinished upload of the product's key (after it is complete: those of killed attempts). */
    abortUnfinished(): Promise<void>;
  };
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
  /** Removes what a failed or cancelled transfer left (a `.part` file, unfinished multipart uploads, an S3 unpack's staging). */
  removePartial(name: string): Promise<void>;
  /** Writes the report as manifest.json next to the products; returns its location. */
  writeManifest(report: unknown): Promise<string>;
  /**
   * Writes `json` as `fileName` into the target's folder (a STAC sidecar or catalog), as the
   * manifest is written: atomically into a local folder, one PutObject to S3 with this target's
   * client; returns its location (`file:///…` or `s3://…`).
   */
  writeJson(fileName: string, json: unknown): Promise<string>;
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
  const writeJson = async (fileName: string, json: unknown) =>
    pathToFileURL((await writeManifest(sink.dir, json, { fileName })).location).toString();
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
    writeManifest: (report) => writeJson(MANIFEST_NAME, report),
    writeJson,
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
  const writeJson = async (fileName: string, json: unknown) => {
    const prefix = sink.prefix ? `s3://${sink.bucket}/${sink.prefix}` : `s3://${sink.bucket}`;
    return (await writeManifest(prefix, json, { s3: client, fileName })).location;
  };
  return {
    async open(name, checkpoint) {
      const point = await sink.prepareResume(name, checkpoint);
      let resume = point.checkpoint;
      return {
        s3: {
          ranges: (onStored) =>
            new S3RangedUpload({ s3: client, bucket: sink.bucket, key: sink.keyFor(name), resume, onStored }),
          abortUnfinished: () => abortUnfinished(name),
        },
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
    async removePartial(name) {
      await abortUnfinished(name);
      // A worker killed mid-unpack (output.unpack) left a staging prefix beside the product.
      await removeUnpackLeftovers(client, sink.bucket, sink.prefix, safeFileName(name).replace(/\.zip$/i, ''));
    },
    writeManifest: (report) => writeJson(MANIFEST_NAME, report),
    writeJson,
    close: () => client.destroy(),
  };
}

/** A PRIVATE order's output bucket, read through one S3 client that `close` releases. */
export interface PrivateOutputTarget {
  /** Lists `options.target` and matches the objects to the order's items. */
  verify(options: Omit<VerifyPrivateOutputOptions, 's3'>): Promise<PrivateOutputReport>;
  /** Streams the found objects into the local folder `sinkUrl` (`file:///dir`), verifying each. */
  copyToLocal(report: PrivateOutputReport, sinkUrl: string, signal?: AbortSignal): Promise<PrivateDownload[]>;
  /**
   * Writes `json` as `fileName` under `dirUrl` (`s3://bucket/prefix`) in the bucket; returns its
   * location. With `ifMatch` (an ETag `readJson` gave, or `'*'` for none yet) only over that version:
   * false when another writer came first.
   */
  writeJson(dirUrl: string, fileName: string, json: unknown, ifMatch?: string): Promise<string | false>;
  /** The JSON object at `url` (`s3://bucket/key`) and its ETag, or undefined when there is none. */
  readJson(url: string, signal?: AbortSignal): Promise<{ json: unknown; etag: string } | undefined>;
  /** The STAC sidecars (`*.stac.json`) under `rootUrl`, as `s3://` URLs. */
  stacSidecars(rootUrl: string, signal?: AbortSignal): Promise<Set<string>>;
  close(): void;
}

export function openPrivateOutput(s3: S3CredentialSet, endpoint?: string): PrivateOutputTarget {
  // The side files read back here (catalog.json) are checked by parsing them. A store whose
  // conditional writes are not atomic (versitygw) can keep a racing writer's checksum beside the
  // body it stored, and a checking read then fails on every retry (seen in a loaded CI run);
  // the product copy asks for the check on each GET (private-output.ts).
  const client = createS3Client({ ...s3, endpoint: s3.endpoint ?? endpoint, validateResponseChecksums: false });
  return {
    verify: (options) => verifyPrivateOutput({ ...options, s3: client }),
    async copyToLocal(report, sinkUrl, signal) {
      const sink = await LocalSink.create(fileURLToPath(sinkUrl));
      return downloadPrivateOutput({ s3: client, report, sink, signal });
    },
    async writeJson(dirUrl, fileName, json, ifMatch) {
      try {
        return (await writeManifest(dirUrl, json, { s3: client, fileName, ifMatch })).location;
      } catch (err) {
        if (ifMatch && (err as { name?: string }).name === 'PreconditionFailed') return false;
        throw err;
      }
    },
    async readJson(url, signal) {
      const { bucket, prefix: key } = parseS3Url(url);
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        return { json: JSON.parse(await got.Body!.transformToString()) as unknown, etag: got.ETag ?? '' };
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    stacSidecars: (rootUrl, signal) => listStacSidecars(client, rootUrl, signal),
    close: () => client.destroy(),
  };
}
