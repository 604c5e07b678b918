/**
 * Issues and checks the Keycloak-style JWTs of both realms: `desp` (issuer `<url>/realms/desp`) and
 * `dedl` (issuer `<url>/auth/realms/dedl`). Access tokens carry `exp`, `iat`, `sub`,
 * `preferred_username` and `realm_access.roles`; they are RS256-signed with one key per realm.
 */
import { randomUUID } from 'node:crypto';
import { type Principal } from './accounts';
import { type Clock } from './clock';
import { type SigningKey, jwks, signJwt, verifyJwt } from './jwt';

export type Realm = 'desp' | 'dedl';
export type TokenType = 'Bearer' | 'Refresh' | 'ID';

export interface TokenServiceOptions {
  baseUrl: string;
  keys: Record<Realm, SigningKey>;
  clock: Clock;
  /** Current access-token lifetime in seconds (read at each issue, so the fault setting applies at once). */
  accessLifetimeSec: () => number;
  refreshLifetimeSec: number;
  /** Counts access tokens issued and the distinct ones accepted (the admin report's `accessTokens`). */
  stats?: { tokenIssued(realm: Realm): void; tokenUsed(realm: Realm, id: string): void };
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

export type TokenCheck =
  | { ok: true; claims: Record<string, unknown>; principal: Principal }
  | { ok: false; reason: string; expired?: boolean };

const CACHE_LIMIT = 10_000;

export class TokenService {
  private readonly verified = new Map<string, { claims: Record<string, unknown>; principal: Principal }>();

  constructor(private readonly o: TokenServiceOptions) {}

  issuer(realm: Realm): string {
    return realm === 'desp' ? `${this.o.baseUrl}/realms/desp` : `${this.o.baseUrl}/auth/realms/dedl`;
  }

  jwks(realm: Realm): { keys: object[] } {
    return jwks(this.o.keys[realm]);
  }

  /** Issues a token of `type` for `principal`. `sid` ties access, refresh and ID tokens of one login. */
  issue(
    realm: Realm,
    type: TokenType,
    principal: Principal,
    o: { clientId: string; sid: string; scope: string; nonce?: string | undefined },
  ): IssuedToken {
    const nowSec = Math.floor(this.o.clock.now() / 1000);
    const lifetime = type === 'Refresh' ? this.o.refreshLifetimeSec : this.o.accessLifetimeSec();
    const iss = this.issuer(realm);
    const claims: Record<string, unknown> = {
      exp: nowSec + lifetime,
      iat: nowSec,
      jti: randomUUID(),
      iss,
      aud:
        type === 'Refresh'
          ? iss
          : type === 'ID'
            ? o.clientId
            : realm === 'dedl'
              ? ['hda-public', 'account']
              : 'account',
      sub: principal.sub,
      typ: type,
      azp: o.clientId,
      sid: o.sid,
      session_state: o.sid,
      scope: o.scope,
    };
    if (o.nonce !== undefined && type === 'ID') claims['nonce'] = o.nonce;
    if (type !== 'Refresh') {
      claims['acr'] = '1';
      claims['realm_access'] = { roles: [...principal.roles] };
      claims['email_verified'] = true;
      claims['preferred_username'] = principal.username;
      claims['email'] = principal.email;
    }
    if (type === 'Bearer') this.o.stats?.tokenIssued(realm);
    return { token: signJwt(claims, this.o.keys[realm]), expiresIn: lifetime };
  }

  /** Checks signature, issuer, token type and expiry; returns the claims and the principal they describe. */
  verify(realm: Realm, token: string, type: TokenType = 'Bearer'): TokenCheck {
    const nowSec = Math.floor(this.o.clock.now() / 1000);
    const cacheKey = `${realm}:${type}:${token}`;
    let hit = this.verified.get(cacheKey);
    if (!hit) {
      const checked = verifyJwt(token, this.o.keys[realm]);
      if (!checked.ok) return checked;
      const c = checked.claims;
      if (c['iss'] !== this.issuer(realm)) return { ok: false, reason: 'wrong issuer' };
      if (c['typ'] !== type) return { ok: false, reason: `not a ${type} token` };
      if (typeof c['sub'] !== 'string' || typeof c['exp'] !== 'number') return { ok: false, reason: 'malformed token' };
      const roles = (c['realm_access'] as { roles?: unknown } | undefined)?.roles;
      hit = {
        claims: c,
        principal: {
          sub: c['sub'],
          username: typeof c['preferred_username'] === 'string' ? c['preferred_username'] : c['sub'],
          email: typeof c['email'] === 'string' ? c['email'] : '',
          roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
        },
      };
      if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
      this.verified.set(cacheKey, hit);
    }
    if ((hit.claims['exp'] as number) <= nowSec) return { ok: false, reason: 'token expired', expired: true };
    if (type === 'Bearer') this.o.stats?.tokenUsed(realm, String(hit.claims['jti']));
    return { ok: true, ...hit };
  }
}
