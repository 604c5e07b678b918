/**
 * OpenStack Swift TempURL semantics for the emulator's temporary storage (docs/hook-api.md §8.1).
 *
 * A link is `<base><objectPath>?temp_url_sig=<hex HMAC>&temp_url_expires=<unix s>`, where the HMAC
 * (SHA-1 on DEDL: 40 hex characters) is keyed by the account's secret and covers
 * `${method}\n${expires}\n${objectPath}`. The link needs no bearer token: the signature is the
 * authorisation. As in Swift, a HEAD request is allowed with a signature made for GET, PUT or POST,
 * and a link is valid up to and including its expiry second.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs a GET link to `objectPath` (which starts with `/`) valid until `expiresAt` (unix seconds). */
export function signTempUrl(o: { baseUrl: string; objectPath: string; expiresAt: number; key: string }): string {
  if (!o.objectPath.startsWith('/')) throw new RangeError('objectPath must start with /');
  if (!Number.isSafeInteger(o.expiresAt) || o.expiresAt < 0) throw new RangeError('expiresAt must be unix seconds');
  const sig = tempUrlSignature('sha1', o.key, 'GET', String(o.expiresAt), o.objectPath);
  const base = o.baseUrl.replace(/\/+$/, '');
  return `${base}${o.objectPath}?temp_url_sig=${sig}&temp_url_expires=${o.expiresAt}`;
}

/**
 * Checks a request against its `temp_url_sig` and `temp_url_expires` query values. The signature is
 * checked first, so `expired` is only ever said of a link the service really issued; a missing,
 * malformed or forged signature or expiry is `invalid`. SHA-256 and SHA-512 hex signatures are
 * accepted too, as current Swift does; the digest is recognised by the signature's length.
 */
export function verifyTempUrl(o: {
  method: string;
  objectPath: string;
  sig: string | null;
  expires: string | null;
  key: string;
  nowSec: number;
}): 'ok' | 'expired' | 'invalid' {
  if (o.sig === null || o.expires === null || !/^\d{1,15}$/.test(o.expires)) return 'invalid';
  const digest = DIGEST_BY_HEX_LENGTH[o.sig.length];
  if (!digest || !/^[0-9a-f]+$/.test(o.sig)) return 'invalid';
  const method = o.method.toUpperCase();
  const acceptedMethods = method === 'HEAD' ? ['HEAD', 'GET', 'PUT', 'POST'] : [method];
  const given = Buffer.from(o.sig, 'hex');
  const authentic = acceptedMethods
    .map((m) =>
      timingSafeEqual(given, Buffer.from(tempUrlSignature(digest, o.key, m, o.expires!, o.objectPath), 'hex')),
    )
    .some(Boolean); // every candidate is compared, so timing does not reveal which one matched
  if (!authentic) return 'invalid';
  return Number(o.expires) < o.nowSec ? 'expired' : 'ok';
}

const DIGEST_BY_HEX_LENGTH: Partial<Record<number, 'sha1' | 'sha256' | 'sha512'>> = {
  40: 'sha1',
  64: 'sha256',
  128: 'sha512',
};

function tempUrlSignature(
  digest: 'sha1' | 'sha256' | 'sha512',
  key: string,
  method: string,
  expires: string,
  path: string,
): string {
  return createHmac(digest, key).update(`${method}\n${expires}\n${path}`).digest('hex');
}

const NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The temporary object name the real service gives an item's zip: `<YYYYMMDD>_<itemId>_<8 [A-Za-z0-9]>.zip`,
 * dated in UTC from the completion time. `random` returns numbers in [0, 1), like Math.random.
 */
export function tempObjectName(o: { completedAt: Date; itemId: number; random: () => number }): string {
  const day = o.completedAt.toISOString().slice(0, 10).replace(/-/g, '');
  let suffix = '';
  for (let i = 0; i < 8; i++) {
    const index = Math.min(NAME_ALPHABET.length - 1, Math.floor(o.random() * NAME_ALPHABET.length));
    suffix += NAME_ALPHABET[Math.max(0, index)];
  }
  return `${day}_${o.itemId}_${suffix}.zip`;
}
