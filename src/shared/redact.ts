/**
 * Redaction for everything that may end up in an error message, a log line or workflow history:
 * signed-URL parameters, tokens, passwords, codes and URL user-info. Activity failures are stored
 * in Temporal history, so every error this layer builds goes through here first.
 */

/** Query parameters whose values are secrets (Swift TempURL, S3 presigning, OAuth). */
const SECRET_PARAM = /sig|signature|token|password|secret|credential|code|key|session|otp|assertion/i;

export const REDACTED = '***';

/** The URL with secret query values and any user-info replaced; unparsable input is returned masked. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactText(String(url));
  }
  if (parsed.username || parsed.password) {
    parsed.username = REDACTED;
    parsed.password = '';
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, REDACTED);
  }
  // URLSearchParams escapes the asterisks; keep them readable.
  return parsed.toString().replaceAll('%2A%2A%2A', REDACTED);
}

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
// `name=value` / `"name": "value"` pairs whose name ends like a secret (desp_source_password,
// client_secret, access_token, temp_url_sig, …); words that merely contain one are left alone.
const KEY_VALUE =
  /\b([A-Za-z_]*(?:password|passwd|secret|token|signature|otp|api_?key|access_?key|_sig)|sig)(["']?\s*[=:]\s*["']?)([^\s"'&,;}]+)/gi;
const URL_IN_TEXT = /https?:\/\/[^\s"'<>]+/g;

/**
 * Masks secrets inside free text: bearer/basic credentials, JWTs, `password=…`-style pairs, URLs
 * with signed parameters, and any literal `knownSecrets` (e.g. the configured password).
 */
export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(URL_IN_TEXT, (url) => (url.includes('?') || url.includes('@') ? redactUrl(url) : url))
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(KEY_VALUE, `$1$2${REDACTED}`);
}
