import { type Agent, request as http } from 'undici';
import type { AdminReport, EmulatorHandle } from '../../src/emulator';
import { HookClient } from '../../src/hook/client';
import { type DespCredentials, despTokenSource } from '../../src/hook/desp-login';
import { endpointsAt } from '../../src/hook/endpoints';
import { createHttpAgent } from '../../src/hook/http';
import { RetryAfterGate } from '../../src/hook/retry-after-gate';

/** A Hook client logged in to an emulator at `url` through the real DESP → DEDL flow. */
export function emulatorHookClient(
  url: string,
  credentials: DespCredentials = { username: 'demo', password: 'demo' },
  agent: Agent = createHttpAgent(),
): HookClient {
  const endpoints = endpointsAt(url);
  const gate = new RetryAfterGate();
  return new HookClient({
    endpoints,
    dispatcher: agent,
    tokens: despTokenSource(agent, credentials, { endpoints, gate }),
    gate,
  });
}

/** Polls `read` until `done` holds (bounded); what a client does while an order is processed. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The emulator's admin report (`GET /_emulator/stats`): what it served, counted at the server. */
export async function emulatorStats(emulator: Pick<EmulatorHandle, 'adminUrl'>): Promise<AdminReport> {
  const res = await http(`${emulator.adminUrl}/stats`);
  if (res.statusCode !== 200) throw new Error(`emulator stats: HTTP ${res.statusCode}`);
  return (await res.body.json()) as AdminReport;
}
