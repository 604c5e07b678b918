/**
 * The secrets a command knows from its environment, so that nothing it prints repeats one: error
 * messages, `doctor`'s table, and the fixtures `doctor --capture` writes.
 */

/** Values of variables that hold secrets. */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  return valuesOf(env, /PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PAYLOAD_KEYS/);
}

/** Secrets and the personal values next to them (user names, client ids): what a shared fixture must not hold. */
export function privateValuesOf(env: NodeJS.ProcessEnv): string[] {
  return [...secretsOf(env), ...valuesOf(env, /USERNAME|CLIENT_ID|ACCESS_KEY_ID|EMAIL/)];
}

/** The text with every literal secret (4 characters or more) masked. */
export function withoutLiterals(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => (secret.length >= 4 ? out.split(secret).join('***') : out), text);
}

function valuesOf(env: NodeJS.ProcessEnv, names: RegExp): string[] {
  return Object.entries(env)
    .filter(([key, value]) => value && names.test(key))
    .map(([, value]) => value!);
}
