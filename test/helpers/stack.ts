/** Addresses of the servers started by global-setup.ts, for tests. */
export const STACK_ENV = 'DEDL_TEST_STACK';

export interface TestStack {
  temporal: { address: string; namespace: string; kind: 'dev-server' | 'cluster' };
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; dataDir: string };
}

export function testStack(): TestStack {
  const raw = process.env[STACK_ENV];
  if (!raw) {
    throw new Error(
      'This test needs the local stack (Temporal dev server + S3), which was not started: ' +
        'run it through `npm test` / `npx jest` without DEDL_STACK=off.',
    );
  }
  return JSON.parse(raw) as TestStack;
}
