/**
 * Starts the real local stack once per jest run (Temporal dev server + versitygw on loopback)
 * and hands its addresses to the test workers through DEDL_TEST_STACK. It also bundles the
 * workflow code once, for every worker a test starts (in process or spawned), instead of each
 * running webpack for seconds at start. Set DEDL_STACK=off to run tests that need no servers
 * without starting any; DEDL_STACK=cluster runs Temporal as a cluster on PostgreSQL instead of the
 * dev server (`npm run test:cluster`).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalStack } from '../../src/devstack/stack';
import { writeWorkflowBundle } from '../../scripts/bundle-workflows';
import { STACK_ENV, type TestStack } from './stack';

export default async function globalSetup(): Promise<void> {
  if (process.env.DEDL_STACK === 'off') return;
  const started = Date.now();
  const scratch = await mkdtemp(path.join(tmpdir(), 'dedl-test-bundle-'));
  const workflowBundle = path.join(scratch, 'workflow-bundle.js');
  const [stack] = await Promise.all([
    startLocalStack({
      cluster: process.env.DEDL_STACK === 'cluster',
      log: (line) => process.stderr.write(`\n[stack] ${line}`),
    }),
    writeWorkflowBundle(workflowBundle, false),
  ]);
  (globalThis as { dedlStack?: { stop(): Promise<void> }; dedlBundleDir?: string }).dedlStack = stack;
  (globalThis as { dedlBundleDir?: string }).dedlBundleDir = scratch;
  const addresses: TestStack = {
    temporal: { address: stack.temporal.address, namespace: stack.temporal.namespace, kind: stack.temporal.kind },
    s3: {
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      accessKeyId: stack.s3.accessKeyId,
      secretAccessKey: stack.s3.secretAccessKey,
      dataDir: stack.s3.dataDir,
    },
    workflowBundle,
  };
  process.env[STACK_ENV] = JSON.stringify(addresses);
  process.stderr.write(
    `\n[stack] Temporal ${addresses.temporal.address}, S3 ${addresses.s3.endpoint}, workflow bundle ` +
      `${workflowBundle} (up in ${Date.now() - started} ms)\n`,
  );
}
