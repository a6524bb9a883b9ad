// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core (STYLE.md habit 2) must not reach the network, disk, clock-bound
// libraries or the HTTP/metrics stack: those belong to the adapters at the edges.
const impureModules = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http',
  'https', 'node:https', 'undici', 'level', 'classic-level', 'hono', '@hono/node-server',
  'prom-client', 'pino', 'node-cron', 'nodemailer', 'child_process', 'node:child_process',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'bin/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-bitwise': 'off',
    },
  },
  {
    files: ['src/merkle/**', 'src/note/**', 'src/entries/**', 'src/monitor/eval/**', 'src/monitor/rules/**', 'src/monitor/provenance/**', 'src/mirror/ingest.ts', 'src/mirror/checkpoint-decision.ts', 'src/notify/breaker.ts', 'src/verify/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: impureModules.map((name) => ({ name, message: 'pure core: no I/O (STYLE.md habit 2)' })) }],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'pure core: no I/O' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure core: time is passed in' }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
