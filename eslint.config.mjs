// Lint rules that guard the architecture (docs/architecture.md §2, the import direction) as well as style.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import jest from 'eslint-plugin-jest';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/** A ban on importing the named src/ folders, from any depth below src/. */
const noFolders = (folders, message) => ({ regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`, message });
const noTemporal = { group: ['@temporalio/*'], message: 'This layer must not depend on Temporal.' };
/** The import bans of one src/ folder (one no-restricted-imports setting per file: a later one would replace it). */
const layer = (folder, ...patterns) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'bin/*.js', 'scripts/*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One-way imports: no module reaches itself again through its imports (type-only imports,
    // erased at compile time, are not counted), and one import statement per module.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O libraries, and activities by type only.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in workflow code.' })),
          patterns: [
            { group: ['undici', 'undici/*', '@aws-sdk/*'], message: 'I/O libraries belong in activities.' },
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Import activities by type only.',
            },
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
              message: 'Not allowed in workflow code.',
            },
          ],
        },
      ],
    },
  },
  // The layers below the workflows and activities know nothing of Temporal, and each imports only
  // the layers below it (docs/architecture.md §2).
  layer(
    'config',
    noTemporal,
    noFolders(
      ['activities', 'client', 'codec', 'devstack', 'emulator', 'storage', 'worker', 'workflows'],
      'Configuration is read by every layer; it imports only shared/ and the Hook endpoint table.',
    ),
  ),
  layer(
    'hook',
    noTemporal,
    noFolders(
      ['activities', 'client', 'devstack', 'emulator', 'storage', 'worker', 'workflows'],
      'The Hook client talks HTTP only; the activities put it together with the rest.',
    ),
  ),
  layer(
    'storage',
    noTemporal,
    noFolders(
      ['activities', 'client', 'devstack', 'emulator', 'hook', 'worker', 'workflows'],
      'Storage knows sinks and S3 only; the activities put it together with the rest.',
    ),
  ),
  layer(
    'emulator',
    noTemporal,
    noFolders(
      ['activities', 'client', 'devstack', 'storage', 'worker', 'workflows'],
      'The emulator stands in for the real service: it must not lean on the harvester it tests.',
    ),
  ),
  // Activities reach the outside world through the Hook client (HTTP) and storage (files, S3).
  layer(
    'activities',
    { group: ['@aws-sdk/*'], message: 'Reach S3 through src/storage (sinks.ts).' },
    { group: ['undici', 'undici/*'], message: 'Reach the Hook through src/hook.' },
    noFolders(['client', 'devstack', 'emulator', 'worker'], 'Activities must not depend on their callers.'),
    { regex: '^(\\.\\./)+workflows(/|$)', allowTypeImports: true, message: 'Import workflows by type only.' },
  ),
  // The worker hosts workflows and activities; the CLI starts it, never the other way round.
  layer(
    'worker',
    noFolders(['client', 'devstack', 'emulator'], 'The worker must not depend on the CLI or the dev tools.'),
  ),
  {
    files: ['test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/valid-expect': 'error',
      'jest/no-focused-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
    },
  },
);
