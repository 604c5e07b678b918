/**
 * PRIVATE output: writes a completed item's product into the S3 bucket named by the order's
 * `output_s3_*` options, with the order's keys, through a real S3 client (path-style). The body is
 * streamed from the product generator; products above the multipart threshold go up in parts.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createProductStream, type ProductSpec } from './product';

const ignore = (): void => undefined;
const SILENT_LOGGER = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export interface PrivateTarget {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface PrivateOutputOptions {
  region: string;
  multipartThresholdBytes: number;
  multipartPartBytes: number;
  /** Endpoint rewrites (e.g. the real DEDL endpoint → a local S3). */
  endpointMap: Record<string, string>;
}

export interface KeyVars {
  prefix: string;
  identifier: string;
  itemId: number;
  orderId: number;
  /** Completion time, for `{date}` (YYYYMMDD). */
  completedAt: Date;
}

/** Renders a PRIVATE key template (see the `privateKeyTemplate` option). */
export function renderKeyTemplate(template: string, v: KeyVars): string {
  const date = v.completedAt.toISOString().slice(0, 10).replace(/-/g, '');
  const values: Record<string, string> = {
    prefix: v.prefix,
    identifier: v.identifier,
    itemId: String(v.itemId),
    orderId: String(v.orderId),
    date,
  };
  const key = template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
  return key.replace(/\/{2,}/g, '/').replace(/^\/+/, '');
}

/** One line describing an S3 failure: code, message and HTTP status when known. */
export function describeS3Error(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode ? ` (HTTP ${meta.httpStatusCode})` : '';
  const code = (err as { Code?: string }).Code ?? err.name;
  const message = err.message && err.message !== code ? `: ${err.message}` : '';
  return `${code}${message}${status}`;
}

export class PrivateOutputWriter {
  private readonly clients = new Map<string, S3Client>();

  constructor(private readonly o: PrivateOutputOptions) {}

  /** Writes the product of `spec` to `target` under `key`; rejects with the S3 error. */
  async write(target: PrivateTarget, key: string, spec: ProductSpec): Promise<void> {
    const s3 = this.client(target);
    try {
      await this.upload(s3, target, key, spec);
    } catch (err) {
      throw await this.diagnose(s3, target, err);
    }
  }

  /**
   * An S3 server that refuses a write (bad signature, no such bucket) may answer before reading the
   * body and close the connection, so the client sees EPIPE/ECONNRESET instead of the answer. Then
   * one small signed request on the same bucket tells which S3 error it was.
   */
  private async diagnose(s3: S3Client, target: PrivateTarget, err: unknown): Promise<unknown> {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined) return err;
    try {
      await s3.send(new ListObjectsV2Command({ Bucket: target.bucket, MaxKeys: 1 }));
    } catch (probe) {
      if ((probe as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined) return probe;
    }
    return err;
  }

  private async upload(s3: S3Client, target: PrivateTarget, key: string, spec: ProductSpec): Promise<void> {
    if (spec.size <= this.o.multipartThresholdBytes) {
      await s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: createProductStream(spec),
          ContentLength: spec.size,
          ContentType: 'application/zip',
        }),
      );
      return;
    }
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: key, ContentType: 'application/zip' }),
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let start = 0, n = 1; start < spec.size; start += this.o.multipartPartBytes, n++) {
        const end = Math.min(spec.size, start + this.o.multipartPartBytes) - 1;
        const part = await s3.send(
          new UploadPartCommand({
            Bucket: target.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: n,
            Body: createProductStream(spec, { start, end }),
            ContentLength: end - start + 1,
          }),
        );
        parts.push({ ETag: part.ETag ?? '', PartNumber: n });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: target.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw err;
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private client(t: PrivateTarget): S3Client {
    const endpoint = this.o.endpointMap[t.endpoint.replace(/\/+$/, '')] ?? this.o.endpointMap[t.endpoint] ?? t.endpoint;
    const cacheKey = `${endpoint}\n${t.accessKeyId}\n${t.secretAccessKey}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = new S3Client({
        endpoint,
        region: this.o.region,
        forcePathStyle: true,
        credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
        // A streamed body cannot be replayed, so the SDK could not retry a write anyway.
        maxAttempts: 1,
        // Failures reach the item's message; the SDK's console warnings would only add noise.
        logger: SILENT_LOGGER,
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
      });
      if (this.clients.size >= 64) this.close();
      this.clients.set(cacheKey, client);
    }
    return client;
  }
}
