/**
 * Redaction for everything that may end up in an error message, a log line or workflow history:
 * signed-URL parameters, tokens, passwords, codes and URL user-info. Activity failures are stored
 * in Temporal history, so every error this layer builds goes through here first.
 */
import { AUTHORIZATION_VALUE, JWT, SECRET_PAIR, SECRET_QUERY_PARAM } from './secret-patterns';

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
    if (SECRET_QUERY_PARAM.test(name)) parsed.searchParams.set(name, REDACTED);
  }
  // URLSearchParams escapes the asterisks; keep them readable.
  return parsed.toString().replaceAll('%2A%2A%2A', REDACTED);
}

const JWT_ANYWHERE = new RegExp(JWT.source, 'g');
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
    .replace(AUTHORIZATION_VALUE, `$1 ${REDACTED}`)
    .replace(JWT_ANYWHERE, REDACTED)
    .replace(SECRET_PAIR, `$1$2${REDACTED}`);
}
