/**
 * Where the services live. Every default is the real DEDL/DESP address; the emulator serves each
 * under the same path on one origin, so switching is a matter of base URLs only.
 */
export interface HookEndpoints {
  /** ODP (OData) root with trailing slash, e.g. `https://odp.data.destination-earth.eu/odata/v1/`. */
  odata: string;
  /** DESP Keycloak base (realm `desp`). */
  despIam: string;
  /** DEDL Keycloak base including `/auth` (realm `dedl`). */
  dedlIam: string;
  /** HDA STAC root: `/stac/v2`, where the DestinE Data Lake Lab's notebooks moved (`/stac` is the older API). */
  stac: string;
}

export const REAL_ENDPOINTS: HookEndpoints = {
  odata: 'https://odp.data.destination-earth.eu/odata/v1/',
  despIam: 'https://auth.destine.eu',
  dedlIam: 'https://identity.data.destination-earth.eu/auth',
  stac: 'https://hda.data.destination-earth.eu/stac/v2',
};

/** The endpoints of an emulator (or any server mirroring the real paths) at `origin`. */
export function endpointsAt(origin: string): HookEndpoints {
  const base = origin.replace(/\/+$/, '');
  return {
    odata: `${base}/odata/v1/`,
    despIam: base,
    dedlIam: `${base}/auth`,
    stac: `${base}/stac/v2`,
  };
}

export const despTokenUrl = (e: HookEndpoints) => `${trim(e.despIam)}/realms/desp/protocol/openid-connect/token`;
export const despAuthUrl = (e: HookEndpoints) => `${trim(e.despIam)}/realms/desp/protocol/openid-connect/auth`;
export const dedlTokenUrl = (e: HookEndpoints) => `${trim(e.dedlIam)}/realms/dedl/protocol/openid-connect/token`;

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}
