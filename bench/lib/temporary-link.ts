/**
 * A TEMPORARY download link for one product, ordered from the emulator the way a harvest orders
 * it (an emulator with instant processing answers within a few polls).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HookClient } from '../../src/hook/client';
import { despTokenSource } from '../../src/hook/desp-login';
import { endpointsAt } from '../../src/hook/endpoints';
import { createHttpAgent } from '../../src/hook/http';

export const BENCH_COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

/** A data-harvest order of `identifiers` into TEMPORARY storage, as the benches send it. */
export function temporaryOrder(name: string, identifiers: string[], account: { username: string; password: string }) {
  return {
    Name: name,
    WorkflowName: 'data-harvest',
    IdentifierList: identifiers,
    WorkflowOptions: [
      { Name: 'output_storage', Value: 'TEMPORARY' },
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: account.username },
      { Name: 'desp_source_password', Value: account.password },
      { Name: 'desp_source_collection', Value: BENCH_COLLECTION },
    ],
  };
}

export async function orderTemporaryLinks(
  emulatorUrl: string,
  identifiers: string[],
  account = { username: 'demo', password: 'demo' },
): Promise<string[]> {
  const agent = createHttpAgent();
  try {
    const endpoints = endpointsAt(emulatorUrl);
    const hook = new HookClient({
      endpoints,
      dispatcher: agent,
      tokens: despTokenSource(agent, account, { endpoints }),
    });
    const order = await hook.createBatchOrder(temporaryOrder(`bench-${Date.now()}`, identifiers, account));
    for (let attempt = 0; attempt < 200; attempt++) {
      const items = await hook.getOrderItems(order.Id);
      const links = identifiers.map((id) => items.find((i) => i.InputProductReference === id)?.DownloadLink);
      if (links.every((l): l is string => !!l)) return links;
      await sleep(50);
    }
    throw new Error(`order ${order.Id} did not complete`);
  } finally {
    await agent.close();
  }
}
