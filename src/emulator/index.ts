/**
 * The Hook emulator: a local, faithful DEDL Hook service on one address, for tests, the demo and
 * benchmarks. Each real service keeps its real path, so a client switches by base URL only:
 *
 * | real service | path on the emulator |
 * |---|---|
 * | ODP `https://odp.data.destination-earth.eu/odata/v1/` | `/odata/v1/` |
 * | DESP IAM `https://auth.destine.eu` | `/realms/desp/…` |
 * | DEDL IAM `https://identity.data.destination-earth.eu/auth` | `/auth/realms/dedl/…` |
 * | HDA STAC `https://hda.data.destination-earth.eu/stac` | `/stac/…` |
 * | temporary storage `https://s3.central.data.destination-earth.eu/swift/v1/tmp-storage/…` | `/swift/v1/tmp-storage/…` |
 * | (admin: faults and report) | `/_emulator/…` |
 *
 * Tokens are RS256 JWTs, one key per realm, published at `…/protocol/openid-connect/certs`. The
 * default account is `demo`/`demo` with roles `hook-workflows` and `hook-high`. Nothing here knows
 * Temporal.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { AccountDirectory } from './accounts';
import { createAdminRoutes } from './admin';
import { createDedlRoutes } from './auth-dedl';
import { createDespRoutes } from './auth-desp';
import { systemClock } from './clock';
import { FaultInjector } from './faults';
import { LinkShaper } from './shaping';
import { generateSigningKey, signingKeyFromPem, signingKeyToPem } from './jwt';
import { createOdataRoutes } from './odata-routes';
import { DEFAULT_ACCOUNT, type EmulatorOptionsInput, emulatorOptionsSchema } from './options';
import { OrderBook } from './orders';
import { PrivateOutputWriter } from './private-output';
import { createItemProcessor } from './processing';
import { MIN_PRODUCT_SIZE } from './product';
import { createRandom } from './prng';
import { createRequestHandler } from './server';
import { createCatalogue, type StacCatalogue } from './stac';
import { createStacRoutes } from './stac-routes';
import { StateWriter, loadState, type StateData } from './state-file';
import { EmulatorStats } from './stats';
import { createStorageRoutes } from './storage-routes';
import { TempStore } from './temp-store';
import { TokenService } from './tokens';
import { workflowsFixture } from './workflows-fixture';

export { emulatorOptionsSchema, DEFAULT_ACCOUNT, QUOTA_ROLES, HOOK_ACCESS_ROLE } from './options';
export type { EmulatorOptions, EmulatorOptionsInput, Account, ServiceAccount } from './options';
export { faultsSchema } from './faults';
export type { Faults, FaultsInput, FaultScope } from './faults';
export { createManualClock, systemClock } from './clock';
export type { Clock, ManualClock } from './clock';
export type { AdminReport } from './admin';
export type { RateLimitRecord, StatsReport } from './stats';
export { totp } from '../hook/totp';
export { workflowsFixture } from './workflows-fixture';
export type { WorkflowDef } from './workflows-fixture';
export type { WorkflowOptionDef } from './workflows-recorded';

export interface EmulatorHandle {
  /** `http://127.0.0.1:PORT`: the one base URL of every emulated service. */
  url: string;
  /** Where it listens, `http://127.0.0.1:PORT`, also when `publicUrl` names a proxy in front of it. */
  listenUrl: string;
  /** `${url}/odata/v1/` (with the trailing slash, as the official examples build URLs). */
  odataUrl: string;
  /** `${url}/_emulator` */
  adminUrl: string;
  /** The generated STAC catalogue, for tests that need identifiers without a search. */
  catalogue: StacCatalogue;
  /** Stops timers, closes the listener and all connections, and writes the state file. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts an emulator; every option has a default (see `emulatorOptionsSchema`). */
export async function startEmulator(input: EmulatorOptionsInput = {}): Promise<EmulatorHandle> {
  const o = emulatorOptionsSchema.parse(input);
  if (typeof o.productSize === 'number' && o.productSize < MIN_PRODUCT_SIZE) {
    throw new RangeError(`productSize must be at least ${MIN_PRODUCT_SIZE} bytes`);
  }
  const clock = o.clock ?? systemClock;
  const saved = o.stateFile ? loadState(o.stateFile) : undefined;

  const server = createServer({ requestTimeout: 0 });
  // Clients poll with long-lived keep-alive connections; don't drop them after Node's 5 s default.
  server.keepAliveTimeout = 65_000;
  await listen(server, o.port, o.host);
  const { port } = server.address() as AddressInfo;
  const urlHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  const listenUrl = `http://${urlHost}:${port}`;
  const url = (o.publicUrl ?? listenUrl).replace(/\/+$/, '');
  const odataUrl = `${url}/odata/v1/`;

  const sizeOption = o.productSize;
  const productSize = (identifier: string): number =>
    typeof sizeOption === 'number' ? sizeOption : Math.max(MIN_PRODUCT_SIZE, Math.floor(sizeOption(identifier)));
  const catalogue = createCatalogue({
    productSize,
    ...(o.catalogueItemsPerCollection !== undefined ? { itemsPerCollection: o.catalogueItemsPerCollection } : {}),
  });
  const accounts = new AccountDirectory(
    o.includeDefaultAccount ? [DEFAULT_ACCOUNT, ...o.accounts] : o.accounts,
    o.serviceAccounts,
  );
  const faults = new FaultInjector(o.faults, o.seed);
  const stats = new EmulatorStats();
  const keys = saved
    ? { desp: signingKeyFromPem(saved.keys.desp), dedl: signingKeyFromPem(saved.keys.dedl) }
    : { desp: generateSigningKey(), dedl: generateSigningKey() };
  const tokens = new TokenService({
    baseUrl: url,
    keys,
    clock,
    accessLifetimeSec: () => faults.settings.tokenLifetimeSec ?? o.tokenLifetimeSec,
    refreshLifetimeSec: o.refreshTokenLifetimeSec,
    stats,
  });
  const tempUrlKey = o.tempUrlKey ?? saved?.tempUrlKey ?? randomBytes(20).toString('hex');
  const temp = new TempStore();
  const writer = new PrivateOutputWriter({
    region: o.s3Region,
    multipartThresholdBytes: o.multipartThresholdBytes,
    multipartPartBytes: o.multipartPartBytes,
    endpointMap: o.s3EndpointMap,
  });
  const workflows = workflowsFixture(o.hookDialect);
  let stateWriter: StateWriter | undefined;
  const book = new OrderBook({
    clock,
    timing: o.timing,
    faults,
    stats,
    firstOrderId: o.firstOrderId,
    firstItemId: o.firstItemId,
    onChange: () => stateWriter?.changed(),
    process: createItemProcessor({
      baseUrl: url,
      clock,
      accounts,
      catalogue,
      productSize,
      faults,
      stats,
      temp,
      writer,
      tempUrlKey,
      linkLifetimeSec: o.linkLifetimeSec,
      privateKeyTemplate: o.privateKeyTemplate,
      privateOutputLagMs: o.privateOutputLagMs,
      random: createRandom(o.seed, 'object-names'),
      defaultStorage: (name) => {
        const def = workflows
          .find((w) => w.Name === name)
          ?.WorkflowOptions.find((x) => x.Name === 'output_storage')?.Default;
        return typeof def === 'string' ? def : undefined;
      },
    }),
  });
  if (saved) {
    temp.restore(saved.temp);
    book.restore(saved.book);
  }
  if (o.stateFile) {
    const snapshot = (): StateData => ({
      version: 1,
      savedAt: new Date(clock.now()).toISOString(),
      book: book.snapshot(),
      temp: temp.all(),
      tempUrlKey,
      keys: { desp: signingKeyToPem(keys.desp), dedl: signingKeyToPem(keys.dedl) },
    });
    stateWriter = new StateWriter(o.stateFile, snapshot);
    stateWriter.changed();
  }

  const routes = [
    ...createAdminRoutes({ faults, stats, book }),
    ...createOdataRoutes({
      odataUrl,
      book,
      workflows,
      accounts,
      tokens,
      stats,
      faults,
      maxItemsPerOrder: o.maxItemsPerOrder,
      dedlObservedRoutesOnly: o.dedlObservedRoutesOnly,
      defaultPageSize: o.defaultPageSize,
      cancelRemovesQueuedItems: o.cancelRemovesQueuedItems,
      itemStatusMessages: o.itemStatusMessages,
      dialect: o.hookDialect,
    }),
    ...createDespRoutes({ baseUrl: url, clock, accounts, tokens }),
    ...createDedlRoutes({ baseUrl: url, accounts, tokens }),
    ...createStacRoutes({ baseUrl: url, catalogue, tokens }),
    ...createStorageRoutes({
      clock,
      temp,
      tempUrlKey,
      faults,
      stats,
      shaper: new LinkShaper(() => faults.settings.shaping),
    }),
  ];
  server.on('request', createRequestHandler({ baseUrl: url, routes, clock, faults, stats }));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      book.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 1_000);
      await closed;
      clearTimeout(force);
      writer.close();
      await stateWriter?.flush();
    })();
    return closing;
  };

  return { url, listenUrl, odataUrl, adminUrl: `${url}/_emulator`, catalogue, close };
}
