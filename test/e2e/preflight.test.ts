/**
 * Preflight before ordering: harvests and campaigns whose destination cannot take products (a
 * path through a file, a missing bucket, wrong S3 keys, a ledger that cannot be written) fail in
 * their validate step with a non-retryable InvalidRequest naming the field and the cause, and
 * the Hook never sees an order.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { type CampaignEnv, campaignRequest, catalogueIds, startCampaignEnv } from '../helpers/campaign-env';
import { request } from '../helpers/harvest-env';
import { refusal } from '../helpers/refusal';
import { createTestBucket, s3CredentialEnv, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';

describe('preflight: a destination that cannot take products is refused before ordering', () => {
  let env: CampaignEnv;
  let s3: S3Client;
  let bucket: string;
  let notAFolder: string;

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'preflight');
    env = await startCampaignEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: 50_000 },
      {
        ...s3CredentialEnv('local'),
        ...s3CredentialEnv('wrongsecret', { secretAccessKey: 'not-the-secret-key' }),
        ...s3CredentialEnv('wrongkey', { accessKeyId: 'NOSUCHKEYID' }),
      },
    );
    notAFolder = path.join(env.sinkDir, 'plain-file');
    await writeFile(notAFolder, 'not a folder');
  });
  afterAll(async () => {
    await env?.close();
    s3?.destroy();
  });

  it('refuses harvests and campaigns with dead sinks, targets and ledgers; the Hook sees no order', async () => {
    const identifiers = catalogueIds(env.emulator, 2);
    const deadFolder = pathToFileURL(path.join(notAFolder, 'inside')).toString();
    const harvestCases: [string, Parameters<typeof request>[0]['output'], RegExp][] = [
      ['dead folder', { storage: 'TEMPORARY', sink: deadFolder }, /^output\.sink: cannot create the folder .*ENOTDIR/],
      [
        'missing bucket',
        { storage: 'TEMPORARY', sink: 's3://no-such-bucket-xyz/p', sinkCredentials: 'local' },
        /^output\.sink: cannot put an object under s3:\/\/no-such-bucket-xyz\/p: NoSuchBucket \(the bucket does not exist/,
      ],
      [
        'wrong secret key',
        { storage: 'TEMPORARY', sink: `s3://${bucket}/p`, sinkCredentials: 'wrongsecret' },
        /^output\.sink: .*SignatureDoesNotMatch/,
      ],
      [
        'unknown access key',
        { storage: 'TEMPORARY', sink: `s3://${bucket}/p`, sinkCredentials: 'wrongkey' },
        /^output\.sink: .*(InvalidAccessKeyId|XAdminUserNotFound)/,
      ],
      [
        'missing PRIVATE bucket',
        {
          storage: 'PRIVATE',
          target: 's3://no-such-target-xyz/out',
          endpoint: testStack().s3.endpoint,
          credentials: 'local',
        },
        /^output\.target: .*NoSuchBucket/,
      ],
    ];
    const started = Date.now();
    const harvests = harvestCases.map(([label, output, says], i) =>
      refusal(
        env.client.workflow.execute('harvest', {
          taskQueue: env.taskQueue,
          workflowId: `e2e-preflight-${i}-${Date.now()}`,
          args: [request({ name: label, identifiers, output })],
        }),
      ).then((problems) => ({ label, problems, says })),
    );
    const campaigns = [
      {
        label: 'campaign with a dead sink',
        says: /^output\.sink: .*ENOTDIR/,
        input: campaignRequest({ identifiers, output: { storage: 'TEMPORARY', sink: deadFolder } }),
      },
      {
        label: 'campaign with a dead ledger',
        says: /^ledger\.url: cannot create the folder .*ENOTDIR/,
        input: campaignRequest({
          identifiers,
          output: { storage: 'TEMPORARY', sink: env.freshSink('campaign-ok').url },
          ledger: { url: deadFolder },
        }),
      },
    ].map(({ label, says, input }, i) =>
      refusal(
        env.client.workflow.execute('harvestCampaign', {
          taskQueue: env.taskQueue,
          workflowId: `e2e-preflight-campaign-${i}-${Date.now()}`,
          args: [input],
        }),
      ).then((problems) => ({ label, problems, says })),
    );
    for (const { label, problems, says } of await Promise.all([...harvests, ...campaigns])) {
      expect({ label, named: problems.some((p) => says.test(p)), problems }).toMatchObject({ label, named: true });
    }
    // Refused in the validate step, without retries: well under the activity's first backoffs.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await env.hookOrders()).toEqual([]);
  });
});
