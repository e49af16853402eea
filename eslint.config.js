// Lint: typescript-eslint's recommended rules on every TypeScript file; only bin/ and cli/ set
// exit codes (the layers' import rules are dependency-cruiser's: .dependency-cruiser.cjs).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'runs/**', 'coverage/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['services/**', 'analysis/**', 'capture/**', 'lab/**', 'music/**'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'process', property: 'exit', message: 'Only bin/ and cli/ set exit codes: return a value or throw a coded error.' },
        { object: 'process', property: 'exitCode', message: 'Only bin/ and cli/ set exit codes: return a value or throw a coded error.' },
      ],
    },
  },
);
