/**
 * Paging of the emulator's STAC search: the default page size and the paging token, an opaque
 * string standing for an offset into the sorted matches. Its own module because the catalogue
 * (stac.ts, which pages), the search validation and the HTTP routes (which put the token in
 * `next` links) all use it.
 */

/** Items per page when a search gives no `limit`. */
export const DEFAULT_LIMIT = 10;

export function encodePageToken(offset: number): string {
  return Buffer.from(`page:${offset}`).toString('base64url');
}

/** The offset a paging token stands for, or undefined if it is not one of ours. */
export function decodePageToken(token: string): number | undefined {
  const m = /^page:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m && encodePageToken(Number(m[1])) === token ? Number(m[1]) : undefined;
}
