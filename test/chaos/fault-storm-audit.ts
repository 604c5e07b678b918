/**
 * What the fault-storm scenario looks at once the campaign has ended: the emulator's own counters
 * (faults injected, 429s and whether anyone came back early), what the Hook says about every item
 * of every order. What lies in the sink is audited by test/helpers/sink-audit.ts.
 */
import { request as http } from 'undici';
import type { AdminReport, EmulatorHandle, FaultsInput } from '../../src/emulator';
import { createHttpAgent } from '../../src/hook/http';
import { emulatorHookClient } from '../helpers/hook';

export { emulatorStats } from '../helpers/hook';

/** Replaces every fault setting (missing fields take their defaults, i.e. no fault). */
export async function replaceFaults(emulator: EmulatorHandle, faults: FaultsInput): Promise<void> {
  const res = await http(`${emulator.adminUrl}/faults`, {
    method: 'PUT',
    body: JSON.stringify(faults),
    headers: { 'content-type': 'application/json' },
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`emulator faults: HTTP ${res.statusCode}`);
}

export interface HookItemView {
  identifier: string;
  orderId: string;
  status: string;
  message: string | null;
}

/**
 * Every item of the given orders as the Hook reports it, read through the real client (as the
 * test's own login). Call it only once the faults are off: it is ordinary Hook traffic, and it
 * would otherwise be faulted and counted against the worker's account.
 */
export async function hookItems(emulator: EmulatorHandle, orderIds: readonly string[]): Promise<HookItemView[]> {
  const agent = createHttpAgent();
  try {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const items: HookItemView[] = [];
    for (const orderId of orderIds) {
      for (const item of await hook.getOrderItems(orderId)) {
        items.push({
          identifier: item.InputProductReference,
          orderId,
          status: item.Status,
          message: item.StatusMessage,
        });
      }
    }
    return items;
  } finally {
    await agent.close();
  }
}

/** Injected faults as the emulator counted them, e.g. "412 faults: 5xx 120, 429 60, …". */
export function describeInjected(
  stats: AdminReport,
  tokenLifetimeSec: number,
  tokens: { issued: number; used: number },
): string {
  const f = stats.faultsInjected;
  const kinds: [string, number][] = [
    ['5xx', f.error],
    ['429', f.rateLimit],
    ['reset', f.reset],
    ['truncated', f.truncate],
    ['Hook-failed', f.itemFailure],
  ];
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  const list = kinds.map(([name, n]) => `${name} ${n}`).join(', ');
  return `${total} faults: ${list}; ${tokens.issued} tokens of ${tokenLifetimeSec} s issued, ${tokens.used} used`;
}
