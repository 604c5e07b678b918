/**
 * One face for the two kinds of sink a product can land in — a local folder (`file:///dir`) or an
 * S3 prefix (`s3://bucket/prefix`) — so the download activity does not care which it writes to.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { S3CredentialSet } from '../config/credentials';
import type { VerificationRecord } from '../storage/integrity';
import { LocalSink } from '../storage/local-sink';
import { rename, writeFile } from 'node:fs/promises';

export interface SinkFillOptions {
  expect: { contentLength?: number; processedSize?: number };
  signal: AbortSignal;
  keepPartialOnFailure: (err: unknown) => boolean;
  onProgress: (bytes: number) => void;
}

export interface SinkPart {
  /** Bytes already stored by an earlier attempt: resume from here. */
  readonly offset: number;
  truncate(): Promise<void>;
  close(): Promise<void>;
  fill(
    body: AsyncIterable<Uint8Array>,
    options: SinkFillOptions,
  ): Promise<{ location: string; verification: VerificationRecord }>;
}

export interface SinkTarget {
  open(name: string, options: { resume: boolean }): Promise<SinkPart>;
  removePartial(name: string): Promise<void>;
  /** Writes a small JSON document next to the products; returns its location. */
  writeJson(name: string, value: unknown): Promise<string>;
}

export async function openSinkTarget(sinkUrl: string, s3?: S3CredentialSet): Promise<SinkTarget> {
  if (sinkUrl.startsWith('file://')) return localTarget(await LocalSink.create(fileURLToPath(sinkUrl)));
  if (sinkUrl.startsWith('s3://')) {
    if (!s3) throw new Error(`an s3:// sink needs credentials (${sinkUrl})`);
    throw new Error('S3 sinks are not wired yet');
  }
  throw new Error(`unsupported sink ${JSON.stringify(sinkUrl)}`);
}

function localTarget(sink: LocalSink): SinkTarget {
  return {
    async open(name, options) {
      const part = await sink.open(name, options);
      return {
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
    async writeJson(name, value) {
      const { finalPath } = sink.paths(name);
      // TODO(storage): use the manifest writer of src/storage once it lands.
      await writeFile(`${finalPath}.tmp`, JSON.stringify(value, null, 2));
      await rename(`${finalPath}.tmp`, finalPath);
      return pathToFileURL(finalPath).toString();
    },
  };
}
