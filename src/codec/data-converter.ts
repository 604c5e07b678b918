/**
 * Payload encryption wiring: the data converter the worker and the CLI's client use when
 * `DEDL_PAYLOAD_KEYS` is set (none otherwise, so nothing changes without keys), and the check
 * that a prebuilt workflow bundle carries the encrypting failure converter.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { ConfigError } from '../config/worker-config';
import { EncryptionCodec, PayloadDecryptionError, encryptionKeyId, isEncrypted } from './encryption-codec';
import { ENCRYPTED_FAILURES_MARKER } from './failure-converter';
import { PAYLOAD_KEYS_VARIABLE, type PayloadKeyRing, payloadKeysFromEnv } from './payload-keys';

/**
 * The failure converter's module, next to this file in both `src/` and `dist/`. The SDK requires
 * it by path in the worker and client, and the workflow bundle must be built with it too.
 */
export const FAILURE_CONVERTER_PATH = require.resolve(path.join(__dirname, 'failure-converter'));

/** Payload and failure-message encryption with these keys. */
export function encryptingDataConverter(keys: PayloadKeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/**
 * The encrypting data converter when `DEDL_PAYLOAD_KEYS` is set, else undefined (the SDK's
 * default). Throws a ConfigError naming the problem (never a key) when the keys are malformed.
 */
export function dataConverterFromEnv(env: { readonly DEDL_PAYLOAD_KEYS?: string }): DataConverter | undefined {
  const keys = payloadKeysFromEnv(env);
  return keys ? encryptingDataConverter(keys) : undefined;
}

/**
 * For a client without keys: encrypted payloads fail with a message saying what to set, rather
 * than the payload converter's "Unknown encoding". Everything else passes through untouched.
 */
export class EncryptedPayloadGuard implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const encrypted = payloads.find(isEncrypted);
    if (encrypted) {
      throw new PayloadDecryptionError(
        `this data is encrypted (key id "${encryptionKeyId(encrypted) ?? '?'}"); set ${PAYLOAD_KEYS_VARIABLE} to the worker's keys to read it`,
      );
    }
    return payloads;
  }
}

/** A workflow bundle as the SDK's WorkerOptions take it. */
export type WorkflowBundleLike = { code: string } | { codePath: string };

/**
 * Workflow failures are converted inside the workflow bundle, so a bundle built without the
 * encrypting failure converter would write their messages to history in plain text even though
 * the worker encrypts everything else: refuse to start with one.
 */
export async function assertBundleEncryptsFailures(bundle: WorkflowBundleLike): Promise<void> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  if (!code.includes(ENCRYPTED_FAILURES_MARKER)) {
    throw new ConfigError([
      `${PAYLOAD_KEYS_VARIABLE}: the workflow bundle${'codePath' in bundle ? ` ${bundle.codePath}` : ''} was built without ` +
        'the encrypting failure converter (workflow failures would be stored in plain text); ' +
        'build it with loadWorkflowBundle(path, dataConverter) or unset DEDL_WORKFLOW_BUNDLE',
    ]);
  }
}
