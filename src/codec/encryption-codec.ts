/**
 * A PayloadCodec that encrypts every payload with AES-256-GCM. The whole original Payload
 * (metadata and data) is protobuf-encoded and encrypted, so not even its encoding is visible; the
 * encrypted payload says only that it is encrypted and with which key id:
 *
 *   metadata: { encoding: "binary/encrypted", "encryption-key-id": <key id> }
 *   data:     12-byte random IV | ciphertext | 16-byte GCM tag
 *
 * The key id is authenticated too (GCM additional data), so relabelling a payload fails like any
 * other tampering. Payloads that are not encrypted decode unchanged: history written before
 * encryption was switched on stays readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { PAYLOAD_KEYS_VARIABLE, type PayloadKeyRing } from './payload-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = temporal.api.common.v1.Payload;

/** A payload could not be decrypted; the message names the key id, never a key. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: PayloadKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.keys.encryptKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.keys.key(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!keyIdBytes) throw new PayloadDecryptionError(`cannot decrypt a payload: it has no ${KEY_ID_METADATA}`);
    const keyId = Buffer.from(keyIdBytes).toString('utf8');
    const key = this.keys.key(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `cannot decrypt a payload encrypted with key id "${printable(keyId)}": that key id is not in ${PAYLOAD_KEYS_VARIABLE} ` +
          `(it has ${this.keys.keyIds.map((id) => `"${id}"`).join(', ')}); add the old key after the new one to rotate`,
      );
    }
    const sealed = payload.data ?? new Uint8Array();
    if (sealed.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(`cannot decrypt a payload encrypted with key id "${keyId}": it is truncated`);
    }
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `cannot decrypt a payload encrypted with key id "${keyId}": authentication failed ` +
          `(the payload was altered, or the key listed as "${keyId}" is not the one it was encrypted with)`,
      );
    }
    const decoded = ProtoPayload.decode(plain);
    return {
      metadata: decoded.metadata,
      data: decoded.data,
      ...(decoded.externalPayloads.length > 0 ? { externalPayloads: decoded.externalPayloads } : {}),
    };
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return !!encoding && Buffer.from(encoding).toString('utf8') === ENCRYPTED_ENCODING;
}

/** The key id of an encrypted payload (for messages), or undefined. */
export function encryptionKeyId(payload: Payload): string | undefined {
  const keyId = payload.metadata?.[KEY_ID_METADATA];
  return isEncrypted(payload) && keyId ? printable(Buffer.from(keyId).toString('utf8')) : undefined;
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** A key id read from a payload comes from outside: keep only what a key id may contain. */
function printable(keyId: string): string {
  return keyId.replace(/[^A-Za-z0-9._-]/g, '?').slice(0, 64);
}
