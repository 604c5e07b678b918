/**
 * Decodes payloads read back from a workflow's history (its input, an activity's heartbeat
 * details) with the client's data converter — its codecs (payload encryption) last to first, then
 * its payload converter — through the SDK's public API.
 */
import type { Client } from '@temporalio/client';
import { type Payload, arrayFromPayloads } from '@temporalio/common';

export async function decodePayloads(
  client: Client,
  payloads: readonly unknown[] | null | undefined,
): Promise<unknown[]> {
  const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
  let decoded = [...(payloads ?? [])] as Payload[];
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return arrayFromPayloads(payloadConverter, decoded);
}
