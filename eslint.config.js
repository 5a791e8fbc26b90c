import tseslint from 'typescript-eslint';

/**
 * Lint rules that keep the architecture honest: runtime imports nothing of ours outside runtime/, server
 * reaches runtime only through its public entry, and hazards the conventions ban are errors.
 */
export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='exec'][callee.object.name='child_process']",
          message: 'Run programs by argv (execFile/spawn), never through a shell string.',
        },
        {
          selector: "CallExpression[callee.name='execSync']",
          message: 'Run programs by argv (execFileSync/spawnSync), never through a shell string.',
        },
      ],
    },
  },
  {
    files: ['runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/server/**', '**/web/**', '../../server/*', '../server/*'], message: 'runtime/ must not depend on server/ or web/.' },
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Config is built once in server/config.ts and passed down.' }],
    },
  },
  {
    files: ['server/**/*.ts'],
    ignores: ['server/config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/runtime/*/**', '!**/runtime/index.ts'], message: 'server/ imports runtime only through runtime/index.ts.' },
            { group: ['**/web/**'], message: 'server/ must not depend on web/.' },
          ],
        },
      ],
    },
  },
);
