/**
 * Starts the real local stack once per jest run (Temporal dev server + versitygw on loopback)
 * and hands its addresses to the test workers through DEDL_TEST_STACK. Set DEDL_STACK=off to run
 * tests that need no servers without starting any; DEDL_STACK=cluster runs Temporal as a cluster
 * on PostgreSQL instead of the dev server (`npm run test:cluster`).
 */
import { startLocalStack } from '../../src/devstack/stack';
import { STACK_ENV, type TestStack } from './stack';

export default async function globalSetup(): Promise<void> {
  if (process.env.DEDL_STACK === 'off') return;
  const started = Date.now();
  const stack = await startLocalStack({
    cluster: process.env.DEDL_STACK === 'cluster',
    log: (line) => process.stderr.write(`\n[stack] ${line}`),
  });
  (globalThis as { dedlStack?: { stop(): Promise<void> } }).dedlStack = stack;
  const addresses: TestStack = {
    temporal: { address: stack.temporal.address, namespace: stack.temporal.namespace, kind: stack.temporal.kind },
    s3: {
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      accessKeyId: stack.s3.accessKeyId,
      secretAccessKey: stack.s3.secretAccessKey,
      dataDir: stack.s3.dataDir,
    },
  };
  process.env[STACK_ENV] = JSON.stringify(addresses);
  process.stderr.write(
    `\n[stack] Temporal ${addresses.temporal.address}, S3 ${addresses.s3.endpoint} (up in ${Date.now() - started} ms)\n`,
  );
}
