/**
 * What "processing" an item means in the emulator: the checks the real data-harvest makes before
 * copying (the source credentials work, the identifier is in the source collection), then the
 * output — a signed TEMPORARY link, or a real S3 write for PRIVATE — or a failure with a message.
 */
import { type AccountDirectory } from './accounts';
import { type Clock } from './clock';
import { type FaultInjector } from './faults';
import { optionText, parseS3Path } from './order-validation';
import { type ItemOutcome, type ItemProcessor } from './orders';
import { type PrivateOutputWriter, describeS3Error, renderKeyTemplate } from './private-output';
import { type ProductSpec } from './product';
import { type EmulatorStats } from './stats';
import { type TempStore, TMP_STORAGE_PATH } from './temp-store';
import { signTempUrl, tempObjectName } from './temp-url';

/** The part of the STAC catalogue the processing needs. */
export interface CatalogueLookup {
  has(collectionId: string, itemId: string): boolean;
  collectionIds(): string[];
}

export interface ProcessingDeps {
  baseUrl: string;
  clock: Clock;
  accounts: AccountDirectory;
  catalogue: CatalogueLookup;
  productSize: (identifier: string) => number;
  faults: FaultInjector;
  stats: EmulatorStats;
  temp: TempStore;
  writer: PrivateOutputWriter;
  tempUrlKey: string;
  linkLifetimeSec: number;
  privateKeyTemplate: string;
  /** A PRIVATE output becomes visible this long after its item completes (0: before). */
  privateOutputLagMs: number;
  /** Random source for temporary object names. */
  random: () => number;
  /** Default `output_storage` of a workflow (when the order does not set it). */
  defaultStorage: (workflowName: string) => string | undefined;
}

const HDA_STAC = 'https://hda.data.destination-earth.eu/stac';

export function createItemProcessor(d: ProcessingDeps): ItemProcessor {
  const collections = (): Set<string> => new Set(d.catalogue.collectionIds());

  /** A failure message when the order's source cannot deliver `identifier`, else undefined. */
  const checkSource = (options: Parameters<typeof optionText>[0], identifier: string): string | undefined => {
    const source = optionText(options, 'source_type');
    if (source !== 'DESP' && source !== 'EXTERNAL') return undefined;
    const [userOpt, passOpt, collOpt] =
      source === 'DESP'
        ? ['desp_source_username', 'desp_source_password', 'desp_source_collection']
        : ['source_username', 'source_password', 'source_catalogue_collection'];
    const user = optionText(options, userOpt);
    if (source === 'DESP' || user !== undefined) {
      const account = d.accounts.checkPassword(user ?? '', optionText(options, passOpt) ?? '');
      if (!account) {
        return `Failed to authenticate to ${source === 'DESP' ? 'DESP' : 'the source catalogue'} as '${user ?? ''}': Invalid username or password.`;
      }
      if (source === 'DESP' && (account.otpSecret !== undefined || account.otpCode !== undefined)) {
        return `Failed to authenticate to DESP as '${account.username}': two-factor authentication (OTP) is enabled for this account and cannot be used by the workflow.`;
      }
    }
    const collection = optionText(options, collOpt) ?? '';
    const where =
      source === 'DESP' ? HDA_STAC : (optionText(options, 'source_catalogue_api_url') ?? 'the source catalogue');
    if (!collections().has(collection)) return `Collection '${collection}' not found in ${where}`;
    if (!d.catalogue.has(collection, identifier)) {
      return `Item '${identifier}' not found in collection '${collection}' of ${where}`;
    }
    return undefined;
  };

  return async (order, item): Promise<ItemOutcome> => {
    if (d.faults.roll('itemFailure', d.faults.settings.itemFailureRate)) {
      d.stats.fault('itemFailure');
      return {
        status: 'failed',
        message: `Workflow ${order.workflowName} failed: step harvest exited with code 1 (emulated fault)`,
      };
    }
    const sourceProblem = checkSource(order.options, item.identifier);
    if (sourceProblem) return { status: 'failed', message: sourceProblem };

    const spec: ProductSpec = { identifier: item.identifier, size: d.productSize(item.identifier) };
    const storage = optionText(order.options, 'output_storage') ?? d.defaultStorage(order.workflowName) ?? 'TEMPORARY';
    if (storage === 'PRIVATE') {
      const target = parseS3Path(optionText(order.options, 'output_s3_path') ?? '');
      const endpoint = optionText(order.options, 'output_s3_endpoint_url') ?? '';
      if (!target) return { status: 'failed', message: 'Invalid output_s3_path' };
      const key = renderKeyTemplate(d.privateKeyTemplate, {
        prefix: target.prefix,
        identifier: item.identifier,
        itemId: item.id,
        orderId: order.id,
        completedAt: new Date(d.clock.now()),
      });
      const write = () =>
        d.writer.write(
          {
            endpoint,
            bucket: target.bucket,
            accessKeyId: optionText(order.options, 'output_s3_access_key') ?? '',
            secretAccessKey: optionText(order.options, 'output_s3_secret_key') ?? '',
          },
          key,
          spec,
        );
      const completed: ItemOutcome = {
        status: 'completed',
        processedName: item.identifier,
        processedSize: spec.size,
        downloadLink: null,
        outputRef: key,
      };
      if (d.privateOutputLagMs > 0) {
        // Completed now, listed later: an eventually consistent store behind the Hook.
        d.clock.setTimeout(() => void write().catch(() => undefined), d.privateOutputLagMs);
        return completed;
      }
      try {
        await write();
      } catch (err) {
        return {
          status: 'failed',
          message: `Failed to write output to s3://${target.bucket}/${key} at ${endpoint}: ${describeS3Error(err)}`,
        };
      }
      return completed;
    }
    const completedAt = d.clock.now();
    const name = tempObjectName({ completedAt: new Date(completedAt), itemId: item.id, random: d.random });
    const expiresAt = Math.floor(completedAt / 1000) + d.linkLifetimeSec;
    const objectPath = `${TMP_STORAGE_PATH}/${name}`;
    d.temp.add({
      name,
      orderId: order.id,
      itemId: item.id,
      identifier: item.identifier,
      size: spec.size,
      completedAt,
      expiresAt,
    });
    return {
      status: 'completed',
      processedName: item.identifier,
      processedSize: spec.size,
      downloadLink: signTempUrl({ baseUrl: d.baseUrl, objectPath, expiresAt, key: d.tempUrlKey }),
      outputRef: name,
    };
  };
}
