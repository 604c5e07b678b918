/**
 * The secrets a command knows from its environment, so that nothing it prints repeats one: error
 * messages, `doctor`'s table, and the fixtures `doctor --capture` writes.
 */
import { PERSONAL_ENV_NAME, SECRET_ENV_NAME } from '../shared/secret-patterns';

/** Values of variables that hold secrets. */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  return valuesOf(env, SECRET_ENV_NAME);
}

/** Secrets and the personal values next to them (user names, client ids): what a shared fixture must not hold. */
export function privateValuesOf(env: NodeJS.ProcessEnv): string[] {
  return [...secretsOf(env), ...valuesOf(env, PERSONAL_ENV_NAME)];
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
