/**
 * The payload encryption keys, from `DEDL_PAYLOAD_KEYS=keyId:base64key[,keyId:base64key…]`. The
 * first key encrypts; every key decrypts, so a key is rotated by putting a new one first and
 * keeping the old one listed until nothing encrypted with it is still needed.
 *
 * Problems are reported by key id and position only: a message never repeats key material.
 */
import { ConfigError } from '../config/worker-config';

export const PAYLOAD_KEYS_VARIABLE = 'DEDL_PAYLOAD_KEYS';
/** AES-256. */
export const KEY_BYTES = 32;

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Standard base64 with its padding, as `openssl rand -base64 32` prints it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface PayloadKeyRing {
  /** The key id new payloads are encrypted with (the first listed). */
  readonly encryptKeyId: string;
  /** Every listed key id, in the order given. */
  readonly keyIds: readonly string[];
  /** The key for an id, if listed. */
  key(keyId: string): Buffer | undefined;
}

/** Parses the variable's value; throws a ConfigError listing every problem (never a key). */
export function parsePayloadKeys(value: string): PayloadKeyRing {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const entries = value.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const where = entries.length > 1 ? ` (entry ${index + 1})` : '';
    const colon = entry.indexOf(':');
    if (colon < 0) {
      problems.push(`${PAYLOAD_KEYS_VARIABLE}${where}: must be keyId:base64key`);
      return;
    }
    const keyId = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(keyId)) {
      problems.push(`${PAYLOAD_KEYS_VARIABLE}${where}: the key id must be 1 to 64 letters, digits, '.', '_' or '-'`);
      return;
    }
    if (keys.has(keyId)) {
      problems.push(`${PAYLOAD_KEYS_VARIABLE}: key id "${keyId}" is listed twice`);
      return;
    }
    if (!BASE64.test(encoded)) {
      problems.push(`${PAYLOAD_KEYS_VARIABLE}: the key of "${keyId}" is not valid base64`);
      return;
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      problems.push(
        `${PAYLOAD_KEYS_VARIABLE}: the key of "${keyId}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (e.g. openssl rand -base64 32)`,
      );
      return;
    }
    keys.set(keyId, key);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const keyIds = [...keys.keys()];
  return { encryptKeyId: keyIds[0]!, keyIds, key: (keyId) => keys.get(keyId) };
}

/** The key ring configured in `env`, or undefined when encryption is off (variable unset or empty). */
export function payloadKeysFromEnv(env: NodeJS.ProcessEnv): PayloadKeyRing | undefined {
  const value = env[PAYLOAD_KEYS_VARIABLE]?.trim();
  return value ? parsePayloadKeys(value) : undefined;
}
