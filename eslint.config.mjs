// Lint with the layering of ARCHITECTURE.md enforced as import zones.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const noElectron = { name: 'electron', message: 'Services, the web host and shared code never import electron; go through the Platform interface.' }
// Services and the web host never reach the renderer, preload or the Electron adapters.
const plainNode = { group: ['**/renderer/**', '**/preload/**', '**/main/platform/**', '**/main/window', '**/main/ipcTransport'], message: 'Services and the web host are plain Node: no renderer, preload or Electron adapters.' }
const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'net', 'http', 'crypto', 'stream', 'worker_threads', 'util']
const nodePatterns = [{ group: ['node:*'], message: 'The renderer never imports Node; ask the backend through the API client.' }]
const nodePaths = nodeBuiltins.map((name) => ({ name, message: 'The renderer never imports Node; ask the backend through the API client.' }))

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.venv/**', 'test-results/**', 'playwright-report/**', 'remote/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noElectron, ...nodePaths, { name: 'react', message: 'shared is pure TypeScript + zod.' }],
        patterns: [...nodePatterns, { group: ['../main/*', '../renderer/*', '../web/*', '../preload/*', '../../*'], message: 'shared imports nothing of ours outside shared/.' }],
      }],
    },
  },
  {
    files: ['src/main/services/**/*.ts', 'src/web/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noElectron], patterns: [plainNode] }] },
  },
  {
    // The HostSession seam: a service that works on a host (runs, set-up, terminals, models) gets
    // one from host/ (the registry) and never builds an SSH or local session itself.
    files: ['src/main/services/{runs,setup,terminals,models}/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noElectron],
        patterns: [
          plainNode,
          { group: ['../ssh/*', '../local/*', '../../ssh/*', '../../local/*'], message: 'Reach a host through host/ (HostRegistry and HostSession), not through ssh/ or local/.' },
        ],
      }],
    },
  },
  {
    // host/ is the seam itself: it knows no implementation and no domain above it.
    files: ['src/main/services/host/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noElectron],
        patterns: [
          plainNode,
          { group: ['../ssh/*', '../local/*', '../runs/*', '../setup/*', '../terminals/*', '../models/*', '../instances/*'], message: 'host/ is the seam every host-facing service goes through; it imports no implementation (ssh/, local/) and no domain folder.' },
        ],
      }],
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../main/*', '../renderer/*', '../web/*'], message: 'preload takes only names from shared.' }] }] },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ ...noElectron, message: 'The renderer reaches the backend only through src/renderer/src/api.' }, ...nodePaths],
        patterns: [...nodePatterns, { group: ['**/main/**', '**/web/**', '**/preload/**'], message: 'The renderer reaches the backend only through its API client.' }],
      }],
    },
  },
)
