// ESLint flat config: typescript-eslint's recommended type-aware rules for the whole monorepo.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'coverage/**', 'bench/results/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // What the chunker's parse workers load: one module of a lib, never a barrel, which brings
    // NestJS, kafkajs and the clients along (measured: 86 MiB of RSS per worker instead of ~15).
    files: [
      'services/chunker/src/split-document.worker.ts',
      'services/chunker/src/chunk-document.ts',
      'services/chunker/src/text-splitter.ts',
      'services/chunker/src/formats/*.ts',
    ],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^@rag/[a-z-]+$', message: 'Parse workers import one module (@rag/lib/module), not a barrel.' }] },
      ],
    },
  },
);
