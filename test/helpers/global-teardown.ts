/** Stops what global-setup started; the servers' scratch folders and the workflow bundle go with them. */
import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { dedlStack?: { stop(): Promise<void> }; dedlBundleDir?: string };
  await holder.dedlStack?.stop();
  if (holder.dedlBundleDir) await rm(holder.dedlBundleDir, { recursive: true, force: true });
  delete holder.dedlStack;
  delete holder.dedlBundleDir;
}
