/**
 * What the fault-storm scenario looks at once the campaign has ended: the emulator's own counters
 * (faults injected, 429s and whether anyone came back early), what the Hook says about every item
 * of every order, and what actually lies in the sink, hashed byte by byte.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
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

export interface SinkAudit {
  /** sha256 (hex) of every final `.zip`, by file name. */
  zips: Map<string, string>;
  /** Every `.part` left anywhere under the sink (relative paths). */
  parts: string[];
}

/** Hashes every product file in the sink and finds any leftover `.part`, ledger folder included. */
export async function auditSink(dir: string): Promise<SinkAudit> {
  const zips = new Map<string, string>();
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    if (entry.name.endsWith('.part')) parts.push(path.relative(dir, full));
    else if (entry.name.endsWith('.zip') && entry.parentPath === dir) zips.set(entry.name, await sha256File(full));
  }
  return { zips, parts };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
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
