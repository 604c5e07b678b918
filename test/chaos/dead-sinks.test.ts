/**
 * Chaos scenario, dead sinks: destinations that cannot take products, each against one real
 * worker. A dead folder (a path through a file), a missing bucket, wrong S3 keys and a read-only
 * folder (a tmpfs mounted read-only) are refused by the preflight: nothing is ordered. A full disk
 * (a 1 MiB tmpfs, a 1.5 MB product) is found only while writing: the product is ordered once, the
 * user is told (the retrying download's last failure), and it resumes once there is room.
 *
 * Each row: `ordered` (Hook orders created), and the seconds until the clear error (the refusal,
 * or the download's "disk full"), both also in the `injected` text. A refused sink's orders are
 * the "orders from bad input" (must be 0), the secrets figure is both S3 secret keys searched in
 * the refusal; nothing is delivered or written, so lost/duplicated/corrupt/left behind are `—`.
 * The full disk's product is audited on the disk (re-hashed, manifest rows, `.part` and strays).
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { productDigest } from '../../src/emulator/product';
import { chaosFigures } from './chaos-harness';
import { auditLocalSink, expectedProducts } from '../helpers/sink-audit';
import { testStack } from '../helpers/stack';
import type { HarvestReport } from '../../src/shared/harvest-report';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { type CampaignEnv, catalogueIds, startCampaignEnv, until } from '../helpers/campaign-env';
import { request } from '../helpers/harvest-env';
import { refusal } from '../helpers/refusal';
import { type Tmpfs, mountTmpfs } from '../helpers/tmpfs';
import { s3CredentialEnv } from '../helpers/s3';
import { type ChaosRow, recordChaosRow, secretsIn } from './chaos-record';

const BIG = 1_500_000;
const WRONG_SECRET = 'not-the-secret-key';
const big = new Set<string>();

interface DeadSinkRow extends ChaosRow {
  ordered: number;
  secondsToClearError: number;
}

type Measured = Pick<
  ChaosRow,
  'products' | 'lost' | 'duplicated' | 'corruptAccepted' | 'secretsFound' | 'leftBehind' | 'ordersFromBadInput'
>;

function row(scenario: string, what: string, ordered: number, seconds: number, figures: Measured) {
  const r: DeadSinkRow = {
    scenario,
    runs: 1,
    injected: `${what}; ordered ${ordered}; clear error in ${seconds.toFixed(1)} s`,
    ...figures,
    ordered,
    secondsToClearError: Number(seconds.toFixed(2)),
  };
  recordChaosRow(r);
  return r;
}

describe('chaos: dead sinks', () => {
  let env: CampaignEnv;
  const mounts: Tmpfs[] = [];

  beforeAll(async () => {
    env = await startCampaignEnv(
      {
        timing: { queuedMs: 20, processingMs: 100 },
        productSize: (identifier: string) => (big.has(identifier) ? BIG : 100_000),
      },
      { ...s3CredentialEnv('local'), ...s3CredentialEnv('wrong', { secretAccessKey: WRONG_SECRET }) },
    );
  });
  afterAll(async () => {
    for (const mount of mounts) await mount.unmount().catch(() => undefined);
    await env?.close();
  });

  /** Runs a harvest that the preflight must refuse; records its row; returns the orders it made. */
  async function refused(scenario: string, output: HarvestRequestInput['output'], says: RegExp): Promise<number> {
    const identifiers = catalogueIds(env.emulator, 2);
    const ordersBefore = (await env.hookOrders()).length;
    const started = Date.now();
    const problems = await refusal(
      env.client.workflow.execute('harvest', {
        taskQueue: env.taskQueue,
        workflowId: `chaos-dead-sink-${scenario.replace(/\W+/g, '-')}-${Date.now()}`,
        args: [request({ name: scenario, identifiers, output })],
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const ordered = (await env.hookOrders()).length - ordersBefore;
    expect({ scenario, named: problems.some((p) => says.test(p)), problems }).toMatchObject({ scenario, named: true });
    const cause = /: (\w+) \(/.exec(problems[0]!)?.[1] ?? 'refused';
    const secrets = secretsIn(
      [testStack().s3.secretAccessKey, WRONG_SECRET],
      [{ where: 'refusal', text: problems.join('\n') }],
    );
    expect(secrets).toEqual([]);
    return row(`dead sink: ${scenario}`, `preflight said ${cause}`, ordered, seconds, {
      products: identifiers.length,
      lost: null,
      duplicated: null,
      corruptAccepted: null,
      secretsFound: secrets.length,
      leftBehind: null,
      ordersFromBadInput: ordered,
    }).ordered;
  }

  it('dead file sink: a path through a file', async () => {
    const file = path.join(env.sinkDir, 'plain-file');
    await writeFile(file, 'not a folder');
    expect(
      await refused(
        'dead file sink',
        { storage: 'TEMPORARY', sink: pathToFileURL(path.join(file, 'inside')).toString() },
        /^output\.sink: .*ENOTDIR/,
      ),
    ).toBe(0);
  });

  it('missing bucket', async () => {
    expect(
      await refused(
        'missing bucket',
        { storage: 'TEMPORARY', sink: 's3://no-such-bucket-xyz/p', sinkCredentials: 'local' },
        /^output\.sink: .*NoSuchBucket/,
      ),
    ).toBe(0);
  });

  it('wrong S3 keys', async () => {
    expect(
      await refused(
        'wrong S3 keys',
        { storage: 'TEMPORARY', sink: 's3://no-such-bucket-xyz/p', sinkCredentials: 'wrong' },
        /^output\.sink: .*SignatureDoesNotMatch/,
      ),
    ).toBe(0);
  });

  it('read-only folder', async () => {
    const readOnly = await mountTmpfs('1m', 'ro');
    mounts.push(readOnly);
    expect(
      await refused('read-only folder', { storage: 'TEMPORARY', sink: readOnly.url }, /^output\.sink: .*EROFS/),
    ).toBe(0);
  });

  it('disk full: ordered once, the user told, resumed once there is room, nothing lost', async () => {
    const disk = await mountTmpfs('1m');
    mounts.push(disk);
    const identifier = catalogueIds(env.emulator, 12)[11]!;
    big.add(identifier);
    const ordersBefore = (await env.hookOrders()).length;
    const started = Date.now();
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `chaos-dead-sink-disk-full-${Date.now()}`,
      args: [
        request({ name: 'disk full', identifiers: [identifier], output: { storage: 'TEMPORARY', sink: disk.url } }),
      ],
    });
    await until(
      async () => (await handle.describe()).raw.pendingActivities ?? [],
      (pending) => pending.some((p) => /^ENOSPC: .*free space/.test(p.lastFailure?.message ?? '')),
      60_000,
    );
    const seconds = (Date.now() - started) / 1000;
    expect((await readdir(disk.dir)).filter((f) => f.endsWith('.part'))).toHaveLength(1);
    await disk.remount('size=8m');
    const report: HarvestReport = await handle.result();
    const expected = await productDigest({ identifier, size: BIG });
    const delivered = report.items.filter((i) => i.state === 'delivered' && i.sha256 === expected.sha256).length;
    const orders = await env.hookOrders();
    const ordered = orders.length - ordersBefore;
    const figures = chaosFigures({
      expected: await expectedProducts([identifier], () => BIG),
      audit: await auditLocalSink(disk.dir),
      orders: orders.filter((o) => o.IdentifierList.includes(identifier)),
      ledger: false,
    });
    const r = row('dead sink: disk full', '1 MiB tmpfs, 1.5 MB product, room made', ordered, seconds, {
      products: 1,
      lost: figures.lost,
      duplicated: figures.duplicated,
      corruptAccepted: figures.corruptAccepted,
      secretsFound: null,
      leftBehind: figures.leftBehind,
      ordersFromBadInput: null,
    });
    expect(figures.problems).toEqual([]);
    expect({ ordered: r.ordered, lost: r.lost, leftBehind: r.leftBehind, delivered }).toEqual({
      ordered: 1,
      lost: 0,
      leftBehind: 0,
      delivered: 1,
    });
  });
});
