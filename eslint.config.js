// ESLint 9 flat config: typescript-eslint's recommended rules for the TypeScript (src/, test/),
// ESLint's for the plain JavaScript (bin/, scripts/, bench/); eslint-config-prettier last, so
// layout is prettier's alone (`npm run lint` runs `prettier --check` and both type-checks too).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', '.bench-tmp/']},
  {linterOptions: {reportUnusedDisableDirectives: 'error'}},
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {globals: globals.node},
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `const {omitted: _, ...rest} = x` leaves a property out on purpose
      '@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tests read the CLI's and the server's JSON output as `any` and let expect() check its shape
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  prettier,
)
