/**
 * RS256 JSON Web Tokens, as Keycloak issues them: one RSA key per realm, published as a JWKS at
 * `…/protocol/openid-connect/certs`, so clients can validate tokens the way destinelab does.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

export interface SigningKey {
  /** Key id, written into each token header and the JWKS. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Generates a 2048-bit RSA signing key. */
export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: keyId(publicKey), privateKey, publicKey };
}

/** Rebuilds a signing key from its PKCS#8 PEM (as kept in the state file). */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { kid: keyId(publicKey), privateKey, publicKey };
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function keyId(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 32);
}

/** The realm's JWKS document. */
export function jwks(key: SigningKey): { keys: object[] } {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { keys: [{ kid: key.kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e }] };
}

export function signJwt(claims: object, key: SigningKey): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = `${header}.${payload}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

export type JwtCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/** Checks structure, algorithm, key id and signature (not `exp`: the caller owns the clock). */
export function verifyJwt(token: string, key: SigningKey): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed token' };
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (!isRecord(header) || header['alg'] !== 'RS256') return { ok: false, reason: 'unsupported algorithm' };
  if (header['kid'] !== key.kid) return { ok: false, reason: 'unknown key id' };
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key.publicKey, Buffer.from(s, 'base64url'))) {
    return { ok: false, reason: 'invalid signature' };
  }
  if (!isRecord(claims)) return { ok: false, reason: 'malformed token' };
  return { ok: true, claims };
}

/** Reads the claims of a token without checking it (for statistics only, never for access). */
export function peekClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isRecord(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
