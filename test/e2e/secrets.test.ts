/**
 * Secrets never reach Temporal: after harvests that use DESP credentials (for the worker's login
 * and the order's source), S3 keys (PRIVATE output), and a source login that fails, no credential
 * value appears anywhere in the workflow histories — inputs, results, failures, search attributes.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const WORKER_PASSWORD = 'Worker-Pw-7f3a9c';
const SOURCE_PASSWORD = 'Source-Pw-2b8e41';
const WRONG_SOURCE_PASSWORD = 'Wrong-Pw-c0ffee';

describe('secrets stay out of workflow history', () => {
  let env: HarvestEnv;
  let secrets: string[];

  beforeAll(async () => {
    const { s3 } = testStack();
    secrets = [WORKER_PASSWORD, SOURCE_PASSWORD, WRONG_SOURCE_PASSWORD, s3.secretAccessKey, s3.accessKeyId];
    env = await startHarvestEnv(
      {
        timing: { queuedMs: 10, processingMs: 30 },
        productSize: 50_000,
        includeDefaultAccount: false,
        accounts: [
          { username: 'harvest-bot', password: WORKER_PASSWORD },
          { username: 'source-user', password: SOURCE_PASSWORD },
        ],
      },
      {
        DESP_USERNAME: 'harvest-bot',
        DESP_PASSWORD: WORKER_PASSWORD,
        DEDL_CREDENTIALS_SOURCE_USERNAME: 'source-user',
        DEDL_CREDENTIALS_SOURCE_PASSWORD: SOURCE_PASSWORD,
        DEDL_CREDENTIALS_BADSOURCE_USERNAME: 'source-user',
        DEDL_CREDENTIALS_BADSOURCE_PASSWORD: WRONG_SOURCE_PASSWORD,
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: s3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    );
  });
  afterAll(() => env?.close());

  it('holds for a TEMPORARY, a PRIVATE and a failing harvest', async () => {
    const s3 = stackS3Client();
    const bucket = await createTestBucket(s3, 'secrets');
    s3.destroy();
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const runs: { id: string; input: Parameters<typeof request>[0]; outcome: HarvestReport['outcome'] }[] = [
      {
        id: `secrets-temporary-${Date.now()}`,
        input: {
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        },
        outcome: 'delivered',
      },
      {
        id: `secrets-private-${Date.now()}`,
        input: {
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: {
            storage: 'PRIVATE',
            target: `s3://${bucket}/p`,
            endpoint: testStack().s3.endpoint,
            credentials: 'local',
          },
        },
        outcome: 'delivered',
      },
      {
        id: `secrets-failing-${Date.now()}`,
        input: {
          identifiers,
          source: { type: 'DESP', credentials: 'badsource' },
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        },
        outcome: 'failed',
      },
    ];
    for (const run of runs) {
      const report: HarvestReport = await env.client.workflow.execute('harvest', {
        taskQueue: env.taskQueue,
        workflowId: run.id,
        args: [request(run.input)],
      });
      expect(report.outcome).toBe(run.outcome);
      const history = historyToJSON(await env.client.workflow.getHandle(run.id).fetchHistory());
      // Payloads are base64 in history JSON: check the decoded form too.
      const decoded = history.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_, b64: string) =>
        Buffer.from(b64, 'base64').toString('utf8'),
      );
      for (const secret of secrets) {
        expect(history).not.toContain(secret);
        expect(decoded).not.toContain(secret);
      }
    }
  });
});
