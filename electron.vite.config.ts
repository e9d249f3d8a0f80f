import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import { resolve } from 'node:path'

export default defineConfig({
  main: {
    // downloadChild: the download process (src/main/services/models/downloadProcesses.ts starts it).
    build: { externalizeDeps: true, rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts'), downloadChild: resolve(__dirname, 'src/main/services/ssh/downloadChild.ts') } } },
  },
  preload: {
    // A sandboxed preload cannot require() anything but electron: bundle everything into one file.
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', inlineDynamicImports: true, entryFileNames: '[name].js' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    // Minified: the entry chunk (React, zod, the app shell) stays small; features load as their own chunks.
    build: { minify: true, rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
  },
})
