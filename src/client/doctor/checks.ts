/**
 * `dedl-harvest doctor`: first contact with the real services, read-only, nothing ordered. With
 * the worker's own configuration and clients (buildDependencies), it checks the login, the Hook's
 * workflows and option definitions, a STAC search, each credential set's S3 endpoint, and Temporal
 * with the project's search attributes. Each check is a row: pass, fail (with its fix), or skip
 * (with the reason, e.g. the earlier check it needs failed).
 */
import { ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ConfigError, type WorkerConfig, loadWorkerConfig } from '../../config/worker-config';
import { searchAttributeFlags } from '../../devstack/stack';
import { jwtClaims } from '../../hook/tokens';
import { SEARCH_ATTRIBUTE_KEYS } from '../../shared/search-attributes';
import { createS3Client } from '../../storage/s3-client';
import { type WorkerDependencies, buildDependencies } from '../../worker/dependencies';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { type Diagnosis, hookFailure, loginFailure, messageOf, s3Failure, temporalFailure } from './fixes';
import type { ExchangeRecorder } from './recorder';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckRow {
  /** Stable id for scripts (`login`, `hook-workflows`, `s3:islet`, …). */
  id: string;
  /** What is checked, as the table shows it. */
  name: string;
  status: CheckStatus;
  /** What was found; for a skip, why the check did not run. */
  detail: string;
  /** For a failure: what to change. */
  fix?: string;
}

/**
 * The "sink writable" rows: the doctor command passes the preflight a harvest runs before ordering
 * (src/storage/preflight.ts) for each `--sink`; without one there is no sink row.
 */
export type SinkPreflight = (sink: { url: string; credentials?: string }) => Promise<{
  ok: boolean;
  detail: string;
  fix?: string;
}>;

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The Hook workflow whose option definitions are read (default data-harvest). */
  workflow?: string;
  /** The collection the STAC search asks for (default Sentinel-2 L1C). */
  collection?: string;
  /** A bucket to list per credential set (`ListObjectsV2`, 1 key); without one, `ListBuckets`. */
  buckets?: Record<string, string>;
  /** Records every answer of the Hook, STAC and identity providers (`--capture`). */
  recorder?: ExchangeRecorder;
  /** See SinkPreflight: the rows of the sink preflight. */
  sinkPreflight?: SinkPreflight;
  sinks?: { url: string; credentials?: string }[];
  /** How long to wait for a Temporal connection (default 5 s). */
  temporalConnectTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DoctorReport {
  ok: boolean;
  rows: CheckRow[];
  /** The configuration the checks ran with, when it was valid. */
  config?: WorkerConfig;
}

export const DEFAULT_COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

const pass = (id: string, name: string, detail: string): CheckRow => ({ id, name, status: 'pass', detail });
const fail = (id: string, name: string, d: Diagnosis): CheckRow => ({ id, name, status: 'fail', ...d });
const skip = (id: string, name: string, why: string): CheckRow => ({ id, name, status: 'skip', detail: why });

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const configured = configure(options);
  const [hookRows, s3Rows, sinkRows, temporalRows] = await Promise.all([
    hookChecks(configured, options),
    s3Checks(configured, options.buckets ?? {}),
    sinkChecks(options),
    temporalChecks(options),
  ]);
  await configured.deps?.close();
  const rows = [configured.row, ...hookRows, ...s3Rows, ...sinkRows, ...temporalRows];
  return { ok: rows.every((r) => r.status !== 'fail'), rows, config: configured.config };
}

interface Configured {
  row: CheckRow;
  config?: WorkerConfig;
  deps?: WorkerDependencies;
}

function configure(options: DoctorOptions): Configured {
  const name = 'configuration';
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(options.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      row: fail('config', name, {
        detail: err.problems.join('; '),
        fix: 'set the variables named, in the environment or .env (see dedl-harvest worker --help)',
      }),
    };
  }
  let deps: WorkerDependencies;
  try {
    deps = buildDependencies(config, options.env, {
      interceptors: options.recorder ? [options.recorder.interceptor()] : [],
    });
  } catch (err) {
    return {
      config,
      row: fail('config', name, {
        detail: messageOf(err).replace(/:$/, ''),
        fix: 'complete or remove the DEDL_CREDENTIALS_<NAME>_* variables named',
      }),
    };
  }
  const sets = deps.credentials.names();
  const auth = config.env.HOOK_AUTH;
  const login = auth === 'desp' && config.env.DESP_OTP_SECRET ? 'desp with one-time codes' : auth;
  return {
    config,
    deps,
    row: pass(
      'config',
      name,
      `HOOK_AUTH=${login}; Hook ${config.endpoints.odata}; STAC ${config.endpoints.stac}; ` +
        `credential sets: ${sets.length ? sets.join(', ') : 'none'}`,
    ),
  };
}

/** Login → Workflows → option definitions, and STAC search (which needs the login too). */
async function hookChecks({ config, deps }: Configured, options: DoctorOptions): Promise<CheckRow[]> {
  const workflow = options.workflow ?? 'data-harvest';
  const collection = options.collection ?? DEFAULT_COLLECTION;
  const names = {
    login: 'login',
    workflows: 'Hook workflows',
    options: `Hook options (${workflow})`,
    stac: 'STAC search',
  };
  if (!config || !deps) {
    const why = 'the configuration is invalid';
    return [
      skip('login', names.login, why),
      skip('hook-workflows', names.workflows, why),
      skip('hook-options', names.options, why),
      skip('stac-search', names.stac, why),
    ];
  }
  const auth = config.env.HOOK_AUTH;
  const signal = options.signal;

  let login: CheckRow;
  try {
    login = pass('login', names.login, describeToken(auth, await deps.tokens.token(signal)));
  } catch (err) {
    login =
      err instanceof TokenExpired
        ? fail('login', names.login, { detail: err.message, fix: 'get a new DEDL token, or use HOOK_AUTH=desp' })
        : fail('login', names.login, loginFailure(auth, err, config.endpoints.despIam));
  }
  if (login.status === 'fail') {
    const why = 'the login failed';
    return [
      login,
      skip('hook-workflows', names.workflows, why),
      skip('hook-options', names.options, why),
      skip('stac-search', names.stac, why),
    ];
  }

  const odataVariable = 'HOOK_ODATA_URL (or HOOK_BASE_URL)';
  let workflows: CheckRow;
  let known: string[] = [];
  try {
    known = (await deps.hook.listWorkflows(signal)).map((w) => w.Name);
    workflows = pass('hook-workflows', names.workflows, `${known.length} workflows: ${shortList(known)}`);
  } catch (err) {
    workflows = fail('hook-workflows', names.workflows, hookFailure(auth, err, odataVariable));
  }

  let definitions: CheckRow;
  if (workflows.status === 'fail') definitions = skip('hook-options', names.options, 'the Workflows list failed');
  else {
    try {
      const found = await deps.hook.getWorkflow(workflow, signal);
      definitions = found
        ? pass(
            'hook-options',
            names.options,
            `${found.WorkflowOptions?.length ?? 0} option definitions read` +
              `${found.WorkflowVersion ? ` (version ${found.WorkflowVersion})` : ''}`,
          )
        : fail('hook-options', names.options, {
            detail: `the Hook lists no workflow "${workflow}" for this account`,
            fix: `check the name (the account sees: ${shortList(known)}); the account may lack the role for it`,
          });
    } catch (err) {
      definitions = fail('hook-options', names.options, hookFailure(auth, err, odataVariable));
    }
  }

  let stac: CheckRow;
  try {
    if (!deps.stac) throw new Error('no STAC client is configured');
    const pages = deps.stac.pages({ collections: [collection], limit: 1 }, signal);
    const first = await pages.next();
    await pages.return(undefined);
    const page = first.done ? undefined : first.value;
    stac = pass(
      'stac-search',
      names.stac,
      `${collection}: ${page?.items.length ?? 0} item on the first page` +
        `${page?.matched !== undefined ? ` of ${page.matched} matched` : ''}`,
    );
  } catch (err) {
    stac = fail('stac-search', names.stac, hookFailure(auth, err, 'STAC_URL (or HOOK_BASE_URL)'));
  }
  return [login, workflows, definitions, stac];
}

/** What the login gave: how long the token lasts and the Hook roles it carries (no personal claim). */
function describeToken(auth: string, token: string): string {
  const claims = jwtClaims(token);
  const how = {
    desp: 'DESP login and DEDL token exchange',
    token: 'HOOK_TOKEN',
    'client-credentials': 'DEDL client credentials',
  }[auth];
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined;
  if (auth === 'token' && exp !== undefined && exp <= Date.now()) {
    throw new TokenExpired(new Date(exp).toISOString());
  }
  const life = exp === undefined ? 'no expiry readable' : `valid for ${Math.round((exp - Date.now()) / 60_000)} min`;
  const realm = claims?.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realm?.roles)
    ? realm.roles.filter((r): r is string => typeof r === 'string' && r.startsWith('hook'))
    : [];
  return `${how}: a token ${life}${roles.length ? `; roles ${roles.join(', ')}` : ''}`;
}

class TokenExpired extends Error {
  constructor(at: string) {
    super(`HOOK_TOKEN expired at ${at}`);
  }
}

/** Each credential set with S3 keys: one signed request to its endpoint. */
async function s3Checks({ deps }: Configured, buckets: Record<string, string>): Promise<CheckRow[]> {
  if (!deps) return [];
  const sets = deps.credentials.names().filter((name) => !deps.credentials.check(name, 's3'));
  if (sets.length === 0)
    return [skip('s3', 'S3 credentials', 'no credential set has S3 keys (PRIVATE harvests need one)')];
  return Promise.all(sets.map((name) => s3Check(deps, name, buckets[name])));
}

async function s3Check(deps: WorkerDependencies, name: string, bucket: string | undefined): Promise<CheckRow> {
  const keys = deps.credentials.s3(name);
  const id = `s3:${name}`;
  const label = `S3 (${name})`;
  if (!keys.endpoint) {
    const variable = `DEDL_CREDENTIALS_${name.toUpperCase().replace(/-/g, '_')}_ENDPOINT`;
    return skip(id, label, `no endpoint configured (requests give it); set ${variable} to check the keys here`);
  }
  const s3 = createS3Client(keys);
  try {
    if (bucket) {
      await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
      return pass(id, label, `${keys.endpoint}: signed ListObjectsV2 on "${bucket}" accepted`);
    }
    const listed = await s3.send(new ListBucketsCommand({}));
    const count = listed.Buckets?.length ?? 0;
    return pass(id, label, `${keys.endpoint}: signed ListBuckets accepted (${count} bucket${count === 1 ? '' : 's'})`);
  } catch (err) {
    const refused = (err as Error).name === 'AccessDenied' && !bucket;
    // The key and its signature were accepted; only listing every bucket is not allowed to it.
    if (refused) return pass(id, label, `${keys.endpoint}: signature accepted (ListBuckets not allowed for this key)`);
    return fail(id, label, s3Failure(err, name, keys.endpoint, bucket));
  } finally {
    s3.destroy();
  }
}

async function sinkChecks(options: DoctorOptions): Promise<CheckRow[]> {
  const preflight = options.sinkPreflight;
  if (!preflight) return [];
  return Promise.all(
    (options.sinks ?? []).map(async (sink) => {
      const id = `sink:${sink.url}`;
      try {
        const result = await preflight(sink);
        return result.ok
          ? pass(id, `sink ${sink.url}`, result.detail)
          : fail(id, `sink ${sink.url}`, { detail: result.detail, fix: result.fix ?? 'see the detail' });
      } catch (err) {
        return fail(id, `sink ${sink.url}`, { detail: messageOf(err), fix: 'see the detail' });
      }
    }),
  );
}

/** Temporal reachable, the namespace there, the project's search attributes registered. */
async function temporalChecks(options: DoctorOptions): Promise<CheckRow[]> {
  const names = { server: 'Temporal', attributes: 'search attributes' };
  let connection: Connection | undefined;
  let settings: ReturnType<typeof temporalConnectionOptions>;
  try {
    settings = temporalConnectionOptions(options.env, options.cwd);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.join('; ') : messageOf(err);
    return [
      fail('temporal', names.server, { detail: problems, fix: 'fix the TEMPORAL_* variables named' }),
      skip('search-attributes', names.attributes, 'Temporal is not reachable'),
    ];
  }
  const { address, namespace } = settings;
  try {
    connection = await Connection.connect({
      address,
      tls: settings.tls,
      apiKey: settings.apiKey,
      connectTimeout: options.temporalConnectTimeoutMs ?? 5_000,
    });
    const described = await connection.workflowService.describeNamespace({ namespace });
    const server = pass(
      'temporal',
      names.server,
      `${address}, namespace ${namespace}${described.namespaceInfo?.state === 1 ? '' : ' (not active)'}`,
    );
    return [server, await searchAttributesCheck(connection, namespace, names.attributes)];
  } catch (err) {
    return [
      fail('temporal', names.server, temporalFailure(err, address, namespace)),
      skip('search-attributes', names.attributes, 'Temporal is not reachable'),
    ];
  } finally {
    await connection?.close();
  }
}

async function searchAttributesCheck(connection: Connection, namespace: string, name: string): Promise<CheckRow> {
  let registered: Record<string, number>;
  try {
    const answer = await connection.operatorService.listSearchAttributes({ namespace });
    registered = (answer.customAttributes ?? {}) as Record<string, number>;
  } catch (err) {
    return skip('search-attributes', name, `this server does not let the client list them (${messageOf(err)})`);
  }
  const types = temporal.api.enums.v1.IndexedValueType;
  const wrong = SEARCH_ATTRIBUTE_KEYS.filter((key) => registered[key.name] !== types[`INDEXED_VALUE_TYPE_${key.type}`]);
  if (wrong.length === 0) return pass('search-attributes', name, SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).join(', '));
  const flags = searchAttributeFlags();
  const create = wrong.map((key) => `--name ${key.name} --type ${flags[key.name]}`).join(' ');
  return fail('search-attributes', name, {
    detail: `not registered (or another type): ${wrong.map((k) => k.name).join(', ')}`,
    fix: `temporal operator search-attribute create --namespace ${namespace} ${create}`,
  });
}

function shortList(names: string[]): string {
  return names.length > 16 ? `${names.slice(0, 16).join(', ')}, …` : names.join(', ');
}
