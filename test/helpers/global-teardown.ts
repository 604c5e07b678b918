/** Stops what global-setup started; the servers' scratch folders go with them. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { dedlStack?: { stop(): Promise<void> } };
  await holder.dedlStack?.stop();
  delete holder.dedlStack;
}
