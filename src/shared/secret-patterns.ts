/**
 * What counts as a secret, in one place: the names (order options, answer fields, query
 * parameters, environment variables) whose values are secrets, and the shapes of secrets in free
 * text (bearer credentials, JWTs). redact.ts masks with them, the ledger keeps such options out of
 * its hash, the Hook client masks them in answers it keeps, the CLI in what it prints and
 * captures, and the tests' secrets scans look for them. (The emulator's `isSecretOption` is not
 * here: it models which options the real Hook hides, not what this project treats as secret.)
 */

/**
 * Names of order options and answer fields that carry credentials or identities: never hashed (a
 * hash of a secret is a way to test guesses of it), never kept or shown in clear.
 */
export const SECRET_NAME =
  /passw(or)?d|passwd|passphrase|secret|token|credential|api[_-]?key|access[_-]?key|private[_-]?key|[_.-]key$|(^|[_.-])(pass|otp|totp|auth|user|username|login|client[_-]?id)([_.-]|$)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Query parameters whose values are secrets (Swift TempURL, S3 presigning, OAuth). */
export const SECRET_QUERY_PARAM = /sig|signature|token|password|secret|credential|code|key|session|otp|assertion/i;

/**
 * `name=value` / `"name": "value"` pairs in text whose name ends like a secret
 * (desp_source_password, client_secret, access_token, temp_url_sig, …); words that merely contain
 * one are left alone. Groups: name, separator, value.
 */
export const SECRET_PAIR =
  /\b([A-Za-z_]*(?:password|passwd|secret|token|signature|otp|api_?key|access_?key|_sig)|sig)(["']?\s*[=:]\s*["']?)([^\s"'&,;}]+)/gi;

/** `Bearer …` / `Basic …` credentials in text (group 1: the scheme). */
export const AUTHORIZATION_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** A JWT (base64url header, payload and signature) anywhere in text; without the `g` flag, so `test` keeps no state. */
export const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;

/** Environment variables that hold secrets (the CLI masks their values in whatever it prints). */
export const SECRET_ENV_NAME = /PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PAYLOAD_KEYS/;

/** Environment variables that hold personal values next to the secrets (user names, client ids). */
export const PERSONAL_ENV_NAME = /USERNAME|CLIENT_ID|ACCESS_KEY_ID|EMAIL/;

/**
 * Keys of an identity provider's answer whose values are secrets (tokens, passwords, signatures,
 * session ids) or personal (user ids), as `doctor --capture` masks them; `token_type` and
 * `expires_in` stay, being evidence of the answer's shape.
 */
export const IDP_SECRET_KEY =
  /(^|_)(token|secret|password|passwd|otp|sig|signature|code)$|session_state|^sid$|keycloak|^sub$|email|username|user_?id/i;
