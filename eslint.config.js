import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** A feature's repository is imported only by the feature's own modules (docs/architecture.md). */
const OWN_REPOSITORIES_ONLY = {
  group: ['**/*.repository.ts', '!./*.repository.ts'],
  message: "Another feature's repository: go through its service or its *.access.ts module.",
};

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'packages/*/dist/',
      'data/',
      'node_modules/',
      'coverage/',
      'test-results/',
      '.docs-ts-*/',
      'tmp/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Layers (docs/architecture.md). A feature's repository is its own: nothing outside the feature folder imports
    // it (other features use its service or its `*.access.ts` surface). The database layer (src/db/) is imported by
    // the features and the runtime that wires them; the edges (auth, real-time, JSON:API, dialects, demo, metrics,
    // limits, health, HTTP and error handling, the kernel) may name its types, never its values.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [OWN_REPOSITORIES_ONLY],
        },
      ],
    },
  },
  {
    files: [
      'src/{auth,realtime,jsonapi,dialects,demo,metrics,limits,health,errors}/**/*.ts',
      'src/{events,env,ids,pagination,http,validation}.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            OWN_REPOSITORIES_ONLY,
            {
              group: ['**/db/*', '**/db/**'],
              allowTypeImports: true,
              message: 'The database layer is for features and the runtime: call a feature service instead.',
            },
          ],
        },
      ],
    },
  },
  {
    // The client package (parley-chat-client) has no dependencies: its modules import one another only.
    files: ['packages/client/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./[\\w-]+\\.js$)',
              message: 'The client has no dependencies: import its own modules (./x.js) only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The demo page runs in the browser.
    files: ['web/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
