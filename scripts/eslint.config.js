// ESLint flat config (kept in scripts/ so the top level stays package.json, tsconfig.json and the folders).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Machines are orchestration only: no I/O, no node: imports.
    files: ['machines/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'net', 'child_process', 'serialport', 'winston'], message: 'machines/ are orchestration only: real work arrives as actors from src/.' },
        // Wire constants have one home each: the leaf tables of codes (no imports of their own).
        { regex: '^\\.\\./src/(?!ras/codes\\.js$|ntlm/constants\\.js$)', allowTypeImports: true, message: 'machines/ may import types from src/, and wire constants from src/ras/codes.ts and src/ntlm/constants.ts, never code.' },
      ] }],
    },
  },
);
