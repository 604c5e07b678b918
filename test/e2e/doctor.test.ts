/**
 * `dedl-harvest doctor` against the emulator over real HTTP, the test stack's Temporal and its S3
 * server: every check passes with good settings; a wrong password fails the login row (with its
 * fix) and skips what needs it; an unreachable Temporal fails its row; `--capture` writes the
 * answers seen as fixtures in which no password, key, user name or token is left.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CheckRow } from '../../src/client/doctor/checks';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import { JWT } from '../../src/shared/secret-patterns';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from './cli-helpers';

const USER = 'doctor-first-contact';
const PASSWORD = 'Dr-Pa55word-never-printed';
const OTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** A fixture in the shared format (COMMON.md). */
interface Fixture {
  source: string;
  commit: string | null;
  recorded: string;
  request: { method: string; path: string; body?: unknown };
  status: number | null;
  body: unknown;
  notes: string;
}

interface DoctorJson {
  ok: boolean;
  checks: CheckRow[];
  captured?: { file: string; what: string }[];
}

describe('dedl-harvest doctor', () => {
  let emulator: EmulatorHandle;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let bucket: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({ accounts: [{ username: USER, password: PASSWORD, otpSecret: OTP }] });
    scratch = await scratchDir('doctor');
    const s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'doctor');
    s3.destroy();
    const { temporal, s3: server } = testStack();
    env = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      HOOK_BASE_URL: emulator.url,
      HOOK_AUTH: 'desp',
      DESP_USERNAME: USER,
      DESP_PASSWORD: PASSWORD,
      DESP_OTP_SECRET: OTP,
      DEDL_CREDENTIALS_ISLET_ACCESS_KEY_ID: server.accessKeyId,
      DEDL_CREDENTIALS_ISLET_SECRET_ACCESS_KEY: server.secretAccessKey,
      DEDL_CREDENTIALS_ISLET_ENDPOINT: server.endpoint,
      DEDL_CREDENTIALS_ISLET_REGION: server.region,
    };
  });
  afterAll(async () => {
    await emulator?.close();
    await scratch?.cleanup();
  });

  const doctor = async (extraEnv: Record<string, string>, ...args: string[]) => {
    const run = await cli(['doctor', '--json', ...args], { ...env, ...extraEnv }, scratch.dir);
    return { code: run.code, report: JSON.parse(run.stdout) as DoctorJson, run };
  };
  const row = (report: DoctorJson, id: string) => report.checks.find((c) => c.id === id);

  it('passes every check with good settings, and prints them as a table', async () => {
    const { code, report } = await doctor({}, '--bucket', `islet=${bucket}`);
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual([
      'config',
      'login',
      'hook-workflows',
      'hook-options',
      'stac-search',
      's3:islet',
      'temporal',
      'search-attributes',
    ]);
    expect(row(report, 'login')!.detail).toMatch(
      /^DESP login and DEDL token exchange: a token valid for \d+ min; roles hook-workflows, hook-high$/,
    );
    expect(row(report, 'hook-workflows')!.detail).toMatch(/^\d+ workflows: .*data-harvest/);
    expect(row(report, 's3:islet')!.detail).toContain(`ListObjectsV2 on "${bucket}" accepted`);
    expect(row(report, 'search-attributes')!.detail).toBe(
      'HarvestName, HarvestCollection, HarvestOutcome, HarvestCampaign',
    );

    const table = await cli(['doctor'], env, scratch.dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ {2}login +pass +DESP login and DEDL token exchange/m);
    expect(table.stdout).toContain('8 of 8 checks passed.');
    expect(table.stdout + table.stderr).not.toContain(PASSWORD);
  });

  it('fails the login row with its fix on a wrong password, skips what needs the login, exits 1', async () => {
    const { code, report, run } = await doctor({ DESP_PASSWORD: 'not-the-password' });
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(row(report, 'login')).toEqual({
      id: 'login',
      name: 'login',
      status: 'fail',
      detail: expect.stringMatching(/^DESP login refused: Invalid username or password/),
      fix: expect.stringContaining('check DESP_USERNAME/DESP_PASSWORD; log in once in a browser'),
    });
    for (const id of ['hook-workflows', 'hook-options', 'stac-search']) {
      expect(row(report, id)).toMatchObject({ status: 'skip', detail: 'the login failed' });
    }
    // What does not need the login still ran.
    expect(row(report, 's3:islet')!.status).toBe('pass');
    expect(row(report, 'temporal')!.status).toBe('pass');
    expect(run.stdout).not.toContain('not-the-password');
  });

  it('fails the Temporal row when Temporal is unreachable, and the S3 row on a wrong secret', async () => {
    const { code, report } = await doctor({
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      DEDL_CREDENTIALS_ISLET_SECRET_ACCESS_KEY: 'wrong-secret-key-0123456789',
    });
    expect(code).toBe(1);
    expect(row(report, 'temporal')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('cannot reach Temporal at 127.0.0.1:1'),
      fix: expect.stringContaining('set TEMPORAL_ADDRESS'),
    });
    expect(row(report, 'search-attributes')).toMatchObject({ status: 'skip', detail: 'Temporal is not reachable' });
    expect(row(report, 's3:islet')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('DEDL_CREDENTIALS_ISLET_SECRET_ACCESS_KEY'),
    });
    expect(row(report, 'login')!.status).toBe('pass');
    expect(JSON.stringify(report)).not.toContain('wrong-secret-key-0123456789');
  });

  it('names what the configuration lacks and skips what needs it', async () => {
    const { code, report } = await doctor({ DESP_PASSWORD: '' });
    expect(code).toBe(1);
    expect(row(report, 'config')).toMatchObject({
      status: 'fail',
      detail: 'DESP_PASSWORD: required when HOOK_AUTH=desp',
      fix: expect.stringContaining('set the variables named'),
    });
    for (const id of ['login', 'hook-workflows', 'hook-options', 'stac-search']) {
      expect(row(report, id)).toMatchObject({ status: 'skip', detail: 'the configuration is invalid' });
    }
  });

  it('--capture writes the answers seen as fixtures, with no secret, user name or token left in them', async () => {
    const dir = path.join(scratch.dir, 'captured');
    const { code, report } = await doctor({}, '--capture', dir);
    expect(code).toBe(0);
    const files = (await readdir(dir)).sort();
    const today = new Date().toISOString().slice(0, 10);
    expect(files).toEqual(
      [
        `dedl-auth-token-exchange-${today}.json`,
        `desp-token-authorization-code-${today}.json`,
        `hook-workflow-options-${today}.json`,
        `hook-workflows-${today}.json`,
        `stac-search-${today}.json`,
      ].sort(),
    );
    expect(report.captured!.map((c) => path.basename(c.file)).sort()).toEqual(files);

    const texts = await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
    for (const text of texts) {
      for (const secret of [PASSWORD, USER, OTP, testStack().s3.secretAccessKey]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(JWT);
      expect(text).not.toMatch(/@example\.org/);
    }
    const fixture = (name: string) => JSON.parse(texts[files.indexOf(`${name}-${today}.json`)]!) as Fixture;
    expect(fixture('dedl-auth-token-exchange')).toMatchObject({
      commit: null,
      recorded: today,
      request: { method: 'POST', path: '/auth/realms/dedl/protocol/openid-connect/token' },
      status: 200,
      body: { access_token: '<…>', token_type: expect.any(String), expires_in: expect.any(Number) },
    });
    const workflows = fixture('hook-workflow-options');
    expect(workflows.request.path).toMatch(/^\/odata\/v1\/Workflows\?.*WorkflowOptions/);
    expect(workflows.body).toMatchObject({ value: [{ Name: 'data-harvest', WorkflowOptions: expect.any(Array) }] });
    const stac = fixture('stac-search');
    expect(stac.request.body).toEqual({ limit: 1, collections: ['EO.ESA.DAT.SENTINEL-2.MSI.L1C'] });
    expect(stac.body).toMatchObject({
      type: 'FeatureCollection',
      features: [expect.objectContaining({ type: 'Feature' })],
    });

    // A second capture into the same folder keeps the first: numbered names.
    await doctor({}, '--capture', dir);
    expect(await readdir(dir)).toContain(`stac-search-${today}-2.json`);
  });

  it('--sink checks a destination as a harvest does before ordering: a writable folder and bucket pass, a dead one fails with its fix', async () => {
    const folder = path.join(scratch.dir, 'sink-ok');
    const good = await doctor({}, '--sink', `file://${folder}`);
    expect(row(good.report, `sink:file://${folder}`)).toMatchObject({ status: 'pass' });
    const s3 = await doctor({}, '--sink', `s3://${bucket}/doctor`, '--sink-credentials', 'islet');
    expect(row(s3.report, `sink:s3://${bucket}/doctor`)).toMatchObject({ status: 'pass' });
    expect(s3.code).toBe(0);

    const dead = await doctor({}, '--sink', 'file:///etc/passwd/inside');
    expect(row(dead.report, 'sink:file:///etc/passwd/inside')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('ENOTDIR'),
      fix: expect.any(String),
    });
    expect(dead.code).toBe(1);
    const missing = await doctor({}, '--sink', 's3://no-such-bucket-doctor/p', '--sink-credentials', 'islet');
    expect(row(missing.report, 's3://no-such-bucket-doctor/p'.replace(/^/, 'sink:'))).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('NoSuchBucket'),
    });
  });
});
