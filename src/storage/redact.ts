/**
 * Keeps signed URL parameters out of anything the storage layer puts into an error or a report.
 * Storage errors end up in Temporal history, and a TempURL (`temp_url_sig=…`) or a presigned S3
 * URL (`X-Amz-Signature=…`, `X-Amz-Credential=…`) is a credential until it expires.
 */

const URL_WITH_QUERY = /\b([a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi;

/** Replaces the query string of every URL in `text` with `?<redacted>`. */
export function redactUrls(text: string): string {
  return text.replace(URL_WITH_QUERY, '$1?<redacted>');
}
