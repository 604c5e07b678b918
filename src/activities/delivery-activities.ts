/**
 * Activities that move and prove bytes: download a product into its sink (resuming after a crash
 * or a retry from where the last attempt stopped), verify PRIVATE bucket output, discard partial
 * files, write the manifest.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { CredentialStore } from '../config/credentials';
import type { HookClient, ProductResponse } from '../hook/client';
import { isRetryable } from '../hook/errors';
import type {
  DeliverInput,
  DeliveryRecord,
  DiscardPartialInput,
  PrivateItemResult,
  ProductOutput,
  VerifyPrivateInput,
  WritePrivateCatalogInput,
  WriteManifestInput,
} from './contract';
import { parseDuration } from '../shared/duration';
import { translatingErrors } from './failures';
import { pathToFileURL } from 'node:url';
import type { PrivateOutputReport } from '../storage/private-output';
import type { S3UploadCheckpoint } from '../storage/s3-sink';
import type { VerificationRecord } from '../storage/integrity';
import type { PartFile } from '../storage/local-sink';
import { isDiskFull, isPermanentSinkError } from '../storage/sink-errors';
import {
  type PrivateOutputTarget,
  type SinkPart,
  type SinkTarget,
  openPrivateOutput,
  openSinkTarget,
} from '../storage/sinks';
import { ConnectionBudget } from './connection-budget';
import { keepAlive } from './keep-alive';
import { RateMeter } from './rate-meter';
import { type RangedCheckpoint, deliverRanged, localRanges } from './ranged-delivery';
import type { RangeTarget } from '../storage/range-sink';
import { rangesStoredIn } from '../storage/s3-ranged';
import { isIntegrityError } from '../storage/errors';
import type { StacClient } from '../hook/stac';
import { placeProduct } from './product-placement';
import { unpackDelivered } from './unpack-delivered';
import { catalogueItems } from './catalogue-items';
import {
  type ProductItemLookup,
  createProductItemLookup,
  privateStacBestEffort,
  productItem,
  type DeliveredAsset,
  sidecarName,
  writeHarvestCatalog,
  writePrivateHarvestCatalog,
  writePrivateStac,
} from './stac-sidecar';

export interface DeliveryActivityDeps {
  hook: HookClient;
  credentials: CredentialStore;
  /**
   * Parallel ranged connections: the worker's default most per product (for products of at least
   * `minRangedBytes`, see {@link connectionsFor}) and its budget for all deliveries. Default: one stream.
   */
  connections?: { perProduct: number; budget: ConnectionBudget; rangeBytes?: number; minRangedBytes?: number };
  /** The catalogue the STAC sidecars' items come from; without it they are minimal items. */
  stac?: StacClient;
}

/** What a download attempt leaves in its heartbeat, for the next attempt to resume with. */
interface DownloadCheckpoint {
  bytes: number;
  /** ETag (or Last-Modified) of the body being resumed, sent as If-Range. */
  validator?: string;
  /** S3 sinks: the multipart upload and its stored parts. */
  upload?: S3UploadCheckpoint;
  /** Parallel ranged delivery: the ranges landed whole (and `bytes` counts every landed byte). */
  ranged?: RangedCheckpoint;
  /** This attempt's recent rate, for progress displays (see rate-meter.ts). */
  bytesPerSecond?: number;
}

/** Looks at a PRIVATE target, spread over its `listingWait`, before unlisted products count as missing. */
const PRIVATE_LISTING_ATTEMPTS = 4;

/**
 * The most connections a product's delivery may open: the request's `connectionsPerProduct` when
 * set, else the worker's default for a product of known size at least `minRangedBytes`, else one
 * stream. Why a floor: on a 20 Mbit/s-per-connection link one stream brings 128 MiB in under a
 * minute, where the ranged ramp gains less (32 MiB: 0.69 × aria2c, 256 MiB: 1.0 ×) while every
 * range is one more request against the account's requests-per-second quota; the products users
 * wait on (the tutorial's 270–780 MB) are well above it. Local and S3 sinks alike: into a local
 * folder its CPU per GiB was measured equal to one stream's; into S3 (versitygw, 256 MiB, up to 4
 * connections against one stream, 5 interleaved runs) CPU, wall time and peak RSS were no worse.
 */
export function connectionsFor(
  requested: number | undefined,
  processedSize: number | undefined,
  worker: { perProduct: number; minRangedBytes?: number },
): number {
  if (requested !== undefined) return requested;
  if (processedSize === undefined || processedSize < (worker.minRangedBytes ?? 0)) return 1;
  return worker.perProduct;
}

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  const { hook, credentials } = deps;
  const connections = deps.connections ?? { perProduct: 1, budget: new ConnectionBudget(0) };
  const lookupItem = createProductItemLookup(deps.stac);
  // The item the workflow looked up with the order's, else (not looked up, or too big to carry) our own lookup.
  const itemOf = (input: ProductOutput & { identifier: string }, options: Parameters<ProductItemLookup>[2]) =>
    input.catalogueItem !== undefined
      ? Promise.resolve(input.catalogueItem ?? undefined)
      : lookupItem(input.collection, input.identifier, options);
  const sinkKeys = (name: string | undefined) => (name ? credentials.s3(name) : undefined);
  const guard = <T>(body: () => Promise<T>) => translatingErrors(credentials.secrets(), body);
  const target = (sink: string, sinkCredentials?: string): Promise<SinkTarget> =>
    openSinkTarget(sink, sinkCredentials ? credentials.s3(sinkCredentials) : undefined);
  const withTarget = async <T>(
    sink: string,
    sinkCredentials: string | undefined,
    use: (t: SinkTarget) => Promise<T>,
  ) => {
    const t = await target(sink, sinkCredentials);
    try {
      return await use(t);
    } finally {
      t.close();
    }
  };

  return {
    async deliverProduct(input: DeliverInput): Promise<DeliveryRecord> {
      return guard(async () => {
        const ctx = Context.current();
        const lastAttempt = ctx.info.attempt >= (ctx.info.retryPolicy?.maximumAttempts ?? Infinity);
        const { identifier } = input.item;
        // Looked up before any byte moves: a passing catalogue error retries an attempt that did nothing yet.
        const found = await itemOf({ ...input, identifier }, { signal: ctx.cancellationSignal, lastAttempt });
        const place = placeProduct({ ...input, identifier }, found);
        const sink = await target(place.dirUrl, input.sinkCredentials);
        const { name } = place;
        // After verification: unpacked when asked, the STAC sidecar beside it, the record.
        const complete = async (location: string, verification: VerificationRecord): Promise<DeliveryRecord> => {
          const product = { href: `./${name}`, size: verification.size, sha256: verification.sha256 };
          let assets: Record<string, DeliveredAsset> = { product };
          if (input.unpack) {
            const unpacked = await unpackDelivered(
              location,
              name,
              { ...input.unpack, signal: ctx.cancellationSignal },
              (bytes) => ctx.heartbeat({ bytes }),
              sinkKeys(input.sinkCredentials),
            );
            location = unpacked.location;
            assets = unpacked.assets;
            if (input.unpack.keepZip) assets.product = product;
          }
          const item = productItem(found, identifier, assets, verification.verifiedAt);
          await sink.writeJson(sidecarName(name), item);
          return deliveryRecord(identifier, location, verification);
        };
        // Closes the sink once its product is complete (the sidecar is written with its client).
        const completeAndClose = (location: string, verification: VerificationRecord) =>
          complete(location, verification).finally(() => sink.close());
        const checkpoint = ctx.info.heartbeatDetails as DownloadCheckpoint | undefined;
        // A local `.part` is locked while open: a second attempt still writing it makes this one
        // fail (retryably) here, before it touches the file.
        const part = await sink.open(name, checkpoint?.upload).catch((err: unknown) => {
          sink.close();
          throw err;
        });
        const url = input.item.downloadLink ?? hook.productValueUrl(input.orderId, input.item.itemId);
        if (!storedBytesResumable(part, checkpoint, input.item.processedSize)) await part.truncate();

        // Cancellation by the workflow stops the transfer and removes the partial file; a worker
        // shutting down or a timeout only stops it, keeping the partial file for the next attempt.
        const stop = new AbortController();
        const pause = new AbortController(); // ranged deliveries: stop, keeping the file for the next attempt
        let response: ProductResponse | undefined;
        ctx.cancelled.catch(() => {
          const details = ctx.cancellationDetails;
          if (details?.workerShutdown || details?.timedOut) {
            response?.body.destroy(new Error('worker shutting down'));
            pause.abort(new Error('worker shutting down'));
          } else stop.abort();
        });

        const maxConnections = connectionsFor(input.connections, input.item.processedSize, connections);
        // A single stream's S3 upload (parts of another size) is resumed by a single stream.
        const s3Ranged = part.s3 && (!checkpoint?.upload || checkpoint.ranged);
        if (maxConnections > 1 && ((part.local && !checkpoint?.upload) || s3Ranged)) {
          const ranged = {
            ctx,
            hook,
            url,
            item: input.item,
            checkpoint,
            maxConnections,
            budget: connections.budget,
            rangeBytes: connections.rangeBytes,
            signal: AbortSignal.any([stop.signal, pause.signal]),
            keepPartial: (err: unknown) =>
              !stop.signal.aborted && !isIntegrityError(err) && (isDiskFull(err) || (!lastAttempt && isRetryable(err))),
          };
          const outcome = await (
            part.local ? deliverLocalRanges(part.local, ranged) : deliverS3Ranges(part, ranged)
          ).catch((err: unknown) => {
            sink.close();
            throw err;
          });
          if ('verification' in outcome) return completeAndClose(outcome.location, outcome.verification);
          response = outcome.wholeBody; // the server sent everything: one stream from the first byte
        } else {
          if (checkpoint?.ranged && part.offset > 0) await part.truncate(); // a ranged attempt's file has holes
          try {
            response = await hook.openProduct({
              url,
              offset: part.offset,
              ifRange: part.offset > 0 ? checkpoint?.validator : undefined,
              signal: stop.signal,
            });
          } catch (err) {
            await part.close().finally(() => sink.close());
            throw err;
          }
        }
        if (response.offset === 0 && part.offset > 0) await part.truncate(); // the server ignored the range
        const validator = response.etag ?? response.lastModified;

        let upload = checkpoint?.upload;
        let bytes = part.offset;
        const meter = new RateMeter();
        const beat = () =>
          ctx.heartbeat({
            bytes,
            validator,
            upload,
            bytesPerSecond: meter.bytesPerSecond,
          } satisfies DownloadCheckpoint);
        // Bytes stop flowing while the last S3 parts upload and the object is completed (or read
        // back): the worker is alive all the same, and the newest checkpoint must reach Temporal.
        const stopBeating = keepAlive(ctx, beat);
        const delivered = await part
          .fill(response.body, {
            expect: { contentLength: response.totalSize, processedSize: input.item.processedSize },
            signal: stop.signal,
            // A full disk keeps what it holds even on the last attempt: a redelivery resumes from it.
            keepPartialOnFailure: (err) => isDiskFull(err) || (!lastAttempt && isRetryable(err)),
            // undici's chunks are read by nobody else: freed once written, not at the next full GC.
            releaseChunks: true,
            onCheckpoint: (state) => {
              upload = state;
              beat();
            },
            // Also called once more after a failed body, with everything received now on disk.
            onProgress: (received) => {
              bytes = received;
              meter.record(received);
              beat();
            },
          })
          .catch((err: unknown) => {
            sink.close();
            throw err;
          })
          .finally(stopBeating);
        return completeAndClose(delivered.location, delivered.verification);
      });
    },

    async verifyPrivateOutput(input: VerifyPrivateInput): Promise<PrivateItemResult[]> {
      return guard(async () => {
        const { output } = input.request;
        if (output.storage !== 'PRIVATE') throw new Error('verifyPrivateOutput needs a PRIVATE request');
        const bucket = openPrivateOutput(credentials.s3(output.credentials), output.endpoint);
        // Listing, copying and writing sidecars report no progress: the attempt heartbeats all the
        // same (createActivities), so a long copy outlives its heartbeat timeout and a cancellation reaches it.
        try {
          const signal = Context.current().cancellationSignal;
          const report = await bucket.verify({
            target: output.target,
            items: input.items.map((i) => ({
              identifier: i.identifier,
              itemId: i.itemId,
              processedSize: i.processedSize,
            })),
            rules: output.keyTemplate ? [{ kind: 'template', template: output.keyTemplate }] : undefined,
            signal,
          });
          const results = report.items.map((item) => ({
            identifier: item.identifier,
            objects: item.objects.map((o) => ({
              key: o.key,
              size: o.size,
              location: `s3://${report.bucket}/${o.key}`,
            })),
            problem:
              item.status === 'found'
                ? undefined
                : `no output for this item under ${output.target} (${item.status === 'empty' ? 'only empty objects' : 'no matching object'}; ${report.listedObjects} objects listed)`,
          }));
          const unlisted = results.filter((r) => r.problem).length;
          const attempt = Context.current().info.attempt;
          if (unlisted > 0 && attempt < PRIVATE_LISTING_ATTEMPTS) {
            // The Hook reports an item completed when it has written the object; a store behind it
            // may list the object a little later. Look again before calling it missing.
            throw ApplicationFailure.create({
              type: 'OutputNotListedYet',
              message: `${unlisted} of ${results.length} outputs not listed under ${output.target} yet (look ${attempt} of ${PRIVATE_LISTING_ATTEMPTS})`,
              category: ApplicationFailureCategory.BENIGN,
              // 1/6, 2/6 and 3/6 of listingWait: the last look comes listingWait after the first.
              nextRetryDelay: Math.ceil((parseDuration(output.listingWait)! * attempt) / 6),
            });
          }
          const hashed = output.download
            ? await copyToLocal(bucket, report, output.download, results, signal)
            : new Map<string, string>();
          // STAC beside the verified objects; a checksum only for an object the copy hashed.
          const lastAttempt = attempt >= (Context.current().info.retryPolicy?.maximumAttempts ?? Infinity);
          // The products are in the bucket whatever happens here (best effort, see privateStacBestEffort).
          const sidecars = new Map<string, string>();
          await privateStacBestEffort(output.target, 'STAC sidecars', async () => {
            const found = results.filter((r) => !r.problem);
            // The batch's items in one search; one lookup per product only when that search fails.
            const batch = await catalogueItems(
              deps.stac,
              input.request.collection ?? '',
              input.request.collection ? found.map((r) => r.identifier) : [],
              signal,
            ).catch(() => undefined);
            await writePrivateStac({
              bucket,
              target: output.target,
              harvestId: Context.current().info.workflowExecution?.workflowId ?? output.target,
              products: found.map((r) => ({
                identifier: r.identifier,
                objects: r.objects.map((o) => ({ ...o, sha256: hashed.get(o.key) })),
              })),
              itemOf: (identifier) =>
                batch
                  ? Promise.resolve(batch.get(identifier))
                  : lookupItem(input.request.collection, identifier, { signal, lastAttempt }),
              mergeCatalog: !input.catalogAtEnd,
              written: sidecars,
              signal,
            });
          });
          return results.map((r) => (sidecars.has(r.identifier) ? { ...r, sidecar: sidecars.get(r.identifier) } : r));
        } finally {
          bucket.close();
        }
      });
    },

    async discardPartial(input: DiscardPartialInput): Promise<void> {
      return guard(async () => {
        const found = await itemOf(input, { lastAttempt: true });
        const place = placeProduct(input, found);
        return withTarget(place.dirUrl, input.sinkCredentials, (t) => t.removePartial(place.name)).catch(
          (err: unknown) => {
            // A sink that cannot be written holds nothing this harvest could remove: done.
            if (!isPermanentSinkError(err)) throw err;
            Context.current().log.warn('Nothing discarded: the sink cannot be written', { sink: input.sink });
          },
        );
      });
    },

    async writeManifest(input: WriteManifestInput): Promise<string> {
      return guard(async () => {
        return withTarget(input.sink, input.sinkCredentials, async (t) => {
          const manifest = await t.writeManifest(input.report);
          await writeHarvestCatalog(input.sink, input.report, (fileName, json) => t.writeJson(fileName, json));
          return manifest;
        });
      });
    },

    async writePrivateCatalog(input: WritePrivateCatalogInput): Promise<string | undefined> {
      return guard(async () => {
        const { output } = input;
        const bucket = openPrivateOutput(credentials.s3(output.credentials), output.endpoint);
        let location: string | undefined;
        try {
          // Best effort, as the sidecars it links (see privateStacBestEffort).
          await privateStacBestEffort(output.target, 'STAC catalog', async () => {
            location = await writePrivateHarvestCatalog({
              targetUrl: output.target,
              harvestId: Context.current().info.workflowExecution?.workflowId ?? output.target,
              name: input.name,
              hrefs: input.sidecars,
              write: (dirUrl, fileName, json) => bucket.writeJson(dirUrl, fileName, json),
            });
          });
          return location;
        } finally {
          bucket.close();
        }
      });
    },
  };
}

/**
 * Streams the found PRIVATE objects into a local folder with the integrity checks; an object that
 * fails them turns its item's result into a problem. Returns the sha256 each copied object hashed to.
 */
async function copyToLocal(
  bucket: PrivateOutputTarget,
  report: PrivateOutputReport,
  sinkUrl: string,
  results: PrivateItemResult[],
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const downloads = await bucket.copyToLocal(report, sinkUrl, signal);
  const hashed = new Map<string, string>();
  for (const download of downloads) {
    const result = results.find((r) => r.identifier === download.identifier)!;
    if (!download.ok) result.problem ??= `copy of ${download.key} failed: ${download.error.message}`;
    else if (download.verification?.sha256) hashed.set(download.key, download.verification.sha256);
  }
  return hashed;
}

/**
 * Whether what an earlier attempt stored (`part.offset` bytes) may be resumed from its length, before
 * the ranged or single-stream path looks at it. Without a ranged checkpoint (which the ranged path
 * reads for itself), only a length a single stream can leave is: a file holding every byte (a kill
 * between the last write and the rename) leaves no range to ask for (416), and a ranged attempt
 * killed before its first heartbeat leaves a file as long as the product (ranged-part.ts sizes it
 * first) with holes. When the product's size is unknown, only a checkpoint vouches for a local file.
 */
export function storedBytesResumable(
  part: { offset: number; local?: unknown },
  checkpoint: { bytes?: number; ranged?: unknown } | undefined,
  processedSize: number | undefined,
): boolean {
  if (checkpoint?.ranged || part.offset === 0) return true;
  if (processedSize === undefined) return part.local === undefined || checkpoint !== undefined;
  return part.offset < processedSize;
}

function deliveryRecord(identifier: string, location: string, verification: VerificationRecord): DeliveryRecord {
  return {
    identifier,
    location,
    size: verification.size,
    sha256: verification.sha256,
    zipEntries: verification.zipEntries ?? 0,
    deliveredAt: verification.verifiedAt,
  };
}

/** What a ranged delivery needs from deliverProduct, whatever its sink. */
interface RangedDelivery {
  ctx: Context;
  hook: HookClient;
  url: string;
  item: DeliverInput['item'];
  checkpoint: DownloadCheckpoint | undefined;
  maxConnections: number;
  budget: ConnectionBudget;
  rangeBytes?: number;
  signal: AbortSignal;
  /** Whether a failed attempt keeps what it stored for the next one (never for bad bytes or cancellation). */
  keepPartial: (err: unknown) => boolean;
}

type RangedResult = { location: string; verification: VerificationRecord } | { wholeBody: ProductResponse };

/**
 * A delivery in parallel ranges into a local `.part`; on failure the file is kept for the next
 * attempt (`keepPartial`) or discarded. Hands back the whole body when the server does not honour ranges.
 */
async function deliverLocalRanges(part: PartFile, o: RangedDelivery): Promise<RangedResult> {
  const { checkpoint } = o;
  // A ranged file has holes: only a ranged checkpoint says which bytes are there; a single-stream
  // checkpoint vouches for its first `bytes`, and a file without any checkpoint starts again.
  // (A file cut to nothing, or shorter than the checkpoint after a crash, vouches only for what it holds.)
  if (!checkpoint?.ranged && part.offset > (checkpoint?.bytes ?? 0)) await part.truncate();
  const resumeBytes = checkpoint?.ranged ? 0 : part.offset;
  try {
    const outcome = await runRanges(o, localRanges(part), checkpoint?.ranged, resumeBytes, () => ({}));
    if ('wholeBody' in outcome) return outcome;
    return { location: pathToFileURL(part.finalPath).toString(), verification: outcome.verification };
  } catch (err) {
    await (o.keepPartial(err) ? part.close() : part.discard());
    throw err;
  }
}

/**
 * A delivery in parallel ranges into an S3 sink, one multipart part per range (storage/s3-ranged.ts):
 * the heartbeat carries the upload beside the range map, and a retry fetches only the ranges whose
 * part ListParts still shows. On failure the upload is kept for the next attempt (`keepPartial`) or
 * aborted; a server that does not honour ranges gets one stream into a fresh upload.
 */
async function deliverS3Ranges(part: SinkPart, o: RangedDelivery): Promise<RangedResult> {
  const { checkpoint } = o;
  let state: DownloadCheckpoint | undefined;
  const upload = part.s3!.ranges(() => state && o.ctx.heartbeat({ ...state, upload: upload.checkpoint() }));
  // The range map counts only the parts prepareResume confirmed (a lost upload: none of them).
  const resume = checkpoint?.ranged && {
    ...checkpoint.ranged,
    ranges: rangesStoredIn(checkpoint.ranged.ranges, upload.resumedParts),
  };
  try {
    const outcome = await runRanges(
      o,
      upload,
      resume,
      0,
      () => ({ upload: upload.checkpoint() }),
      (s) => (state = s),
    );
    if ('wholeBody' in outcome) {
      await upload.abort();
      await part.truncate();
      return outcome;
    }
    // Uploads an attempt killed before its first heartbeat left: nothing needs them now.
    await part.s3!.abortUnfinished();
    return { location: upload.location, verification: outcome.verification };
  } catch (err) {
    if (!o.keepPartial(err)) await upload.abort().catch(() => undefined);
    throw err;
  }
}

/** Runs the ranged engine (ranged-delivery.ts) on `target`, heartbeating its state (and the sink's `extra`). */
async function runRanges(
  o: RangedDelivery,
  target: RangeTarget,
  resume: RangedCheckpoint | undefined,
  resumeBytes: number,
  extra: () => Partial<DownloadCheckpoint>,
  onState?: (state: DownloadCheckpoint) => void,
): Promise<{ verification: VerificationRecord } | { wholeBody: ProductResponse }> {
  const { ctx, checkpoint } = o;
  let state: DownloadCheckpoint = { bytes: resumeBytes, ranged: resume, validator: checkpoint?.validator, ...extra() };
  const meter = new RateMeter();
  const beat = () => ctx.heartbeat(state);
  const stopBeating = keepAlive(ctx, beat);
  onState?.(state);
  try {
    return await deliverRanged({
      hook: o.hook,
      url: o.url,
      target,
      processedSize: o.item.processedSize,
      resume,
      resumeBytes,
      resumeValidator: checkpoint?.validator,
      maxConnections: o.maxConnections,
      budget: o.budget,
      rangeBytes: o.rangeBytes,
      signal: o.signal,
      onCheckpoint: (ranged, bytes) => {
        meter.record(bytes);
        state = { bytes, ranged, validator: ranged.validator, bytesPerSecond: meter.bytesPerSecond, ...extra() };
        onState?.(state);
        beat();
      },
    });
  } finally {
    stopBeating();
  }
}
