/**
 * What the DESP realm's route modules share: its paths, the public clients with their registered
 * redirect URIs, the dependencies, and the Keycloak-shaped discovery document (which the DEDL
 * realm serves too).
 */
import { type AccountDirectory } from './accounts';
import { type Clock } from './clock';
import { type TokenService } from './tokens';

export const REALM_PATH = '/realms/desp';
export const COOKIE_PATH = '/realms/desp/';

export interface DespAuthDeps {
  baseUrl: string;
  clock: Clock;
  accounts: AccountDirectory;
  tokens: TokenService;
}

/** Public DESP clients and the redirect URIs registered for them (docs/hook-api.md §2.2), plus their emulator twins. */
export function despClients(baseUrl: string): Map<string, string[]> {
  return new Map([
    ['dedl-hook', ['https://odp.data.destination-earth.eu/odata/v1/', `${baseUrl}/odata/v1/`]],
    [
      'dedl-hda',
      [
        'https://hda.data.destination-earth.eu/stac',
        'https://hda.data.destination-earth.eu/stac/',
        'https://hda.data.destination-earth.eu/stac/v2',
        `${baseUrl}/stac`,
        `${baseUrl}/stac/`,
        `${baseUrl}/stac/v2`,
      ],
    ],
  ]);
}

/** A Keycloak-shaped discovery document. */
export function discovery(issuer: string, oidcBase: string, grants: string[]): object {
  return {
    issuer,
    authorization_endpoint: `${oidcBase}/auth`,
    token_endpoint: `${oidcBase}/token`,
    userinfo_endpoint: `${oidcBase}/userinfo`,
    jwks_uri: `${oidcBase}/certs`,
    grant_types_supported: grants,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'profile', 'email'],
    claims_supported: ['sub', 'iss', 'preferred_username', 'email', 'realm_access'],
  };
}
