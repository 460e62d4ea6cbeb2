// ESLint's flat config: JavaScript's and typescript-eslint's recommended rules over the sources,
// tests, bench and scripts; Prettier owns formatting (eslint-config-prettier turns off the rules
// that would disagree with it). `npm run lint` runs both.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'src/__generated__/', 'bench/results/', '.bench-*/', '.dev-*/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks what a signature must take or a destructuring must drop, on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read GraphQL answers as JSON whose shape each assertion then pins; typing every one
    // would restate the schema in every test.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
