/**
 * Activities that move and prove bytes: download a product into its sink (resuming after a crash
 * or a retry from where the last attempt stopped), verify PRIVATE bucket output, discard partial
 * files, write the manifest.
 */
import { Context } from '@temporalio/activity';
import type { CredentialStore } from '../config/credentials';
import type { HookClient, ProductResponse } from '../hook/client';
import { isRetryable } from '../hook/errors';
import type {
  DeliverInput,
  DeliveryRecord,
  DiscardPartialInput,
  PrivateItemResult,
  VerifyPrivateInput,
  WriteManifestInput,
} from './contract';
import { translatingErrors } from './failures';
import { type SinkTarget, openSinkTarget } from './sinks';

export interface DeliveryActivityDeps {
  hook: HookClient;
  credentials: CredentialStore;
}

/** What a download attempt leaves in its heartbeat, for the next attempt to resume with. */
interface DownloadCheckpoint {
  bytes: number;
  /** ETag (or Last-Modified) of the body being resumed, sent as If-Range. */
  validator?: string;
}

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  const { hook, credentials } = deps;
  const guard = <T>(body: () => Promise<T>) => translatingErrors(credentials.secrets(), body);
  const target = (sink: string, sinkCredentials?: string): Promise<SinkTarget> =>
    openSinkTarget(sink, sinkCredentials ? credentials.s3(sinkCredentials) : undefined);

  return {
    async deliverProduct(input: DeliverInput): Promise<DeliveryRecord> {
      return guard(async () => {
        const ctx = Context.current();
        const sink = await target(input.sink, input.sinkCredentials);
        const name = productFileName(input.item.identifier);
        const checkpoint = ctx.info.heartbeatDetails as DownloadCheckpoint | undefined;
        const part = await sink.open(name, { resume: true });
        const url = input.item.downloadLink ?? hook.productValueUrl(input.orderId, input.item.itemId);

        // Cancellation by the workflow stops the transfer and removes the partial file; a worker
        // shutting down or a timeout only stops it, keeping the partial file for the next attempt.
        const stop = new AbortController();
        let response: ProductResponse | undefined;
        ctx.cancelled.catch(() => {
          const details = ctx.cancellationDetails;
          if (details?.workerShutdown || details?.timedOut) response?.body.destroy(new Error('worker shutting down'));
          else stop.abort();
        });

        try {
          response = await hook.openProduct({
            url,
            offset: part.offset,
            ifRange: part.offset > 0 ? checkpoint?.validator : undefined,
            signal: stop.signal,
          });
        } catch (err) {
          await part.close();
          throw err;
        }
        if (response.offset === 0 && part.offset > 0) await part.truncate(); // the server ignored the range
        const validator = response.etag ?? response.lastModified;
        const lastAttempt = ctx.info.attempt >= (ctx.info.retryPolicy?.maximumAttempts ?? Infinity);

        const delivered = await part.fill(response.body, {
          expect: { contentLength: response.totalSize, processedSize: input.item.processedSize },
          signal: stop.signal,
          keepPartialOnFailure: (err) => !lastAttempt && isRetryable(err),
          onProgress: (bytes) => ctx.heartbeat({ bytes, validator } satisfies DownloadCheckpoint),
        });
        const { verification } = delivered;
        return {
          identifier: input.item.identifier,
          location: delivered.location,
          size: verification.size,
          sha256: verification.sha256,
          zipEntries: verification.zipEntries ?? 0,
          deliveredAt: verification.verifiedAt,
          reused: false,
        };
      });
    },

    async verifyPrivateOutput(input: VerifyPrivateInput): Promise<PrivateItemResult[]> {
      return guard(async () => {
        void input;
        throw new Error('not implemented');
      });
    },

    async discardPartial(input: DiscardPartialInput): Promise<void> {
      return guard(async () => {
        const sink = await target(input.sink, input.sinkCredentials);
        await sink.removePartial(productFileName(input.identifier));
      });
    },

    async writeManifest(input: WriteManifestInput): Promise<string> {
      return guard(async () => {
        const sink = await target(input.sink, input.sinkCredentials);
        return sink.writeJson('manifest.json', input.report);
      });
    },
  };
}

/** The file a product lands in: its identifier plus `.zip` (made safe by the sink). */
export function productFileName(identifier: string): string {
  return `${identifier}.zip`;
}
