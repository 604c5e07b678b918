/**
 * A TEMPORARY and a PRIVATE harvest succeed end to end against the emulator speaking each recorded
 * dialect of the real Hook: Sep 2024 (option values as objects, 17 options "Required", numeric order
 * Id on creation, completed items with StatusMessage and CompletedDate) and May 2024 (option values
 * as strings, brand/platform echoed, items without StatusMessage).
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { dedlToken, odp } from '../emulator/helpers';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

describe.each(['2024-09', '2024-05'] as const)('harvests against the %s dialect', (dialect) => {
  let env: HarvestEnv;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    const { s3: stackS3 } = testStack();
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, `dialect-${dialect}`);
    env = await startHarvestEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: 30_000, hookDialect: dialect },
      {
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: stackS3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: stackS3.secretAccessKey,
        DEDL_CREDENTIALS_LOCAL_REGION: stackS3.region,
      },
    );
  });
  afterAll(async () => {
    await env?.close();
    s3?.destroy();
  });

  it('serves the dialect it was asked for', async () => {
    const api = odp(env.emulator, await dedlToken(env.emulator.url));
    const res = await api.get("Workflows?$expand=WorkflowOptions&$filter=(Name eq 'data-harvest')");
    const storage = res.json.value[0].WorkflowOptions.find((o: { Name: string }) => o.Name === 'output_storage');
    expect(storage.Value[0]).toEqual(dialect === '2024-09' ? { value: 'PRIVATE', condition: null } : 'PRIVATE');
  });

  it('delivers a TEMPORARY harvest', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `dialect-temporary-${dialect}-${randomUUID()}`,
      args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })],
    });
    expect(report.outcome).toBe('delivered');
    expect(report.items.map((i) => [i.identifier, i.state])).toEqual(identifiers.map((id) => [id, 'delivered']));
  });

  it('delivers a PRIVATE harvest', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `dialect-private-${dialect}-${randomUUID()}`,
      args: [
        request({
          identifiers,
          output: {
            storage: 'PRIVATE',
            target: `s3://${bucket}/out`,
            endpoint: testStack().s3.endpoint,
            credentials: 'local',
          },
        }),
      ],
    });
    expect(report.outcome).toBe('delivered');
    expect(report.items.map((i) => i.location).sort()).toEqual(
      identifiers.map((id) => `s3://${bucket}/out/${id}.zip`).sort(),
    );
  });
});
