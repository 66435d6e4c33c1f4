// Type-aware, strict lint for all TypeScript in the tree (typescript-eslint's
// strictTypeChecked set); formatting is Prettier's job, so eslint-config-prettier
// switches off the rules that only concern layout. `npm run lint` runs it.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'build/', '.cache/', 'coverage/', 'test/controlplane/bin/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // noUncheckedIndexedAccess types every index as possibly undefined; a `!`
      // after an explicit bounds check is how the codecs say "checked above".
      '@typescript-eslint/no-non-null-assertion': 'off',
      // The @kubernetes/client-node models (V1Secret, V1ObjectMeta, ...) are
      // data-only classes that the API client reads and writes as plain JSON:
      // object literals in their place and spreads of them are the norm (127
      // and 19 reports, all of that kind). no-misused-spread's allow list
      // cannot name an optional field's `V1ObjectMeta | undefined`, and the
      // other rule has no allow list at all.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-misused-spread': 'off',
      // The validators reject control characters on purpose (spelled as \x
      // escapes); the rule cannot tell that from an accidental one.
      'no-control-regex': 'off',
      // Numbers and booleans print unambiguously; nullish, objects and any do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `_name` marks a parameter or binding kept for its position; a rest
      // sibling is how an object is copied without some keys.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  // Plain JavaScript: the tool configs (Node) and the page script that runs in
  // Chromium. No type information, so the type-aware rules are off there.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], languageOptions: { globals: globals.node } },
  { files: ['**/*.page.js'], languageOptions: { globals: globals.browser } },
  prettier,
);
