/**
 * Writes the workflow bundle a production worker loads with DEDL_WORKFLOW_BUNDLE, so it does not
 * run webpack at every start (npm run bundle:workflows -- <out.js> [--encrypted-failures]).
 *
 * `--encrypted-failures` bundles the encrypting failure converter, which a worker with
 * DEDL_PAYLOAD_KEYS requires (it refuses a bundle without it: workflow failure messages would
 * reach history in plain text). The bundle is built exactly as the worker builds one at start.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FAILURE_CONVERTER_PATH } from '../src/codec/data-converter';
import { loadWorkflowBundle } from '../src/worker/create-worker';

export async function writeWorkflowBundle(outFile: string, encryptedFailures: boolean): Promise<number> {
  const bundle = await loadWorkflowBundle(
    undefined,
    encryptedFailures ? { failureConverterPath: FAILURE_CONVERTER_PATH } : undefined,
  );
  if (!('code' in bundle)) throw new Error('expected a freshly built bundle');
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, bundle.code);
  return Buffer.byteLength(bundle.code);
}

async function main(args: string[]): Promise<void> {
  const encryptedFailures = args.includes('--encrypted-failures');
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--encrypted-failures');
  if (files.length !== 1 || unknown.length > 0) {
    throw new Error('usage: bundle-workflows <out.js> [--encrypted-failures]');
  }
  const outFile = path.resolve(files[0]!);
  const bytes = await writeWorkflowBundle(outFile, encryptedFailures);
  console.log(`${outFile}: ${bytes} bytes${encryptedFailures ? ' (encrypted failures)' : ''}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
