/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s steps), the default of Keycloak's OTP policy. */
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(secret: string): Buffer {
  const clean = secret.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const idx = BASE32.indexOf(ch);
    if (idx < 0) throw new Error('OTP secret is not base32');
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Whether `secret` is a usable base32 TOTP secret. */
export function isBase32Secret(secret: string): boolean {
  try {
    return base32Decode(secret).length > 0;
  } catch {
    return false;
  }
}

/** The 6-digit code of `secret` (base32) at `timeMs`. */
export function totp(secret: string, timeMs: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 30_000)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

/** Accepts the code of the current step and of one step either side (clock skew), like Keycloak. */
export function checkTotp(secret: string, code: string, timeMs: number): boolean {
  return [-30_000, 0, 30_000].some((skew) => totp(secret, timeMs + skew) === code.trim());
}
