import { readFile } from 'node:fs/promises';
import {
  CONFIG_REFERENCE_END,
  CONFIG_REFERENCE_START,
  configVariables,
  renderConfigReference,
} from '../../../src/config/config-reference';
import { AUTH_REQUIREMENTS, ConfigError, loadWorkerConfig, workerEnvSchema } from '../../../src/config/worker-config';
import { README_PATH, readmeWithConfigReference } from '../../../scripts/docs-config';

function region(readme: string): string {
  const start = readme.indexOf(CONFIG_REFERENCE_START);
  const end = readme.indexOf(CONFIG_REFERENCE_END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return readme.slice(start, end + CONFIG_REFERENCE_END.length);
}

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadWorkerConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/** The smallest environment the worker accepts. */
const MINIMAL = { HOOK_AUTH: 'token', HOOK_TOKEN: 't' };

describe('the configuration reference', () => {
  it('is what the README shows between its markers (else run `npm run docs:config`)', async () => {
    const readme = await readFile(README_PATH, 'utf8');
    expect(region(readme)).toBe(region(readmeWithConfigReference(readme)));
  });

  it('lists every variable of the schema, each with a description', () => {
    const variables = configVariables();
    expect(variables.map((v) => v.name)).toEqual(Object.keys(workerEnvSchema.shape));
    for (const v of variables) expect(v.description.length).toBeGreaterThan(10);
    const table = renderConfigReference(variables);
    for (const v of variables) expect(table).toContain(`| \`${v.name}\` |`);
  });

  it('shows the defaults the worker applies', () => {
    const { env } = loadWorkerConfig(MINIMAL);
    const parsed = env as Record<string, unknown>;
    const withDefault = configVariables().filter((v) => v.default !== undefined);
    expect(withDefault.map((v) => v.name)).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'HOOK_AUTH']));
    for (const v of withDefault) {
      if (v.name === 'HOOK_AUTH') continue; // set in MINIMAL
      expect([v.name, String(parsed[v.name])]).toEqual([v.name, v.default]);
    }
    expect(loadWorkerConfig({ DESP_USERNAME: 'u', DESP_PASSWORD: 'p' }).env.HOOK_AUTH).toBe(
      configVariables().find((v) => v.name === 'HOOK_AUTH')?.default,
    );
  });

  it('names exactly the variables the worker refuses to start without', () => {
    const variables = configVariables();
    // Nothing the table calls optional is needed once the chosen auth mode has its variables.
    expect(problems(MINIMAL)).toEqual([]);
    for (const [mode, needed] of Object.entries(AUTH_REQUIREMENTS)) {
      const listed = variables.filter((v) => v.requiredWhen.includes(`\`HOOK_AUTH=${mode}\``)).map((v) => v.name);
      expect(listed).toEqual([...needed]);
      const complete = Object.fromEntries([['HOOK_AUTH', mode], ...needed.map((name) => [name, 'value-long-enough'])]);
      expect(problems(complete)).toEqual([]);
      for (const name of needed) {
        expect(problems({ ...complete, [name]: undefined })).toEqual([`${name}: required when HOOK_AUTH=${mode}`]);
      }
    }
    const paired = variables.filter((v) => v.requiredWhen.some((c) => c.startsWith('with ')));
    expect(paired.map((v) => v.name)).toEqual(['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH']);
    for (const v of paired) {
      expect(problems({ ...MINIMAL, [v.name]: 'file.pem' })).toEqual([
        'TEMPORAL_TLS_CLIENT_KEY_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
      ]);
    }
  });

  it('escapes table syntax inside descriptions', () => {
    const table = renderConfigReference([{ name: 'X', requiredWhen: [], description: 'a|b', values: ['p|q'] }]);
    expect(table.split('\n')[2]).toBe('| `X` |  |  | a\\|b One of `p\\|q`. |');
  });
});
