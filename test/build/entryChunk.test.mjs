// After `npm run build` (run by `npm test` right after the build step, with node's own test runner):
// the renderer's entry chunk, what the first paint waits for, stays small, and the heavy features
// (charts: recharts; terminals: xterm; the add-instance wizard) are chunks of their own.
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

const RENDERER = path.resolve(import.meta.dirname, '..', '..', 'out', 'renderer')
const ENTRY_LIMIT = 800 * 1024

function entryChunk() {
  const html = readFileSync(path.join(RENDERER, 'index.html'), 'utf8')
  const src = html.match(/<script type="module"[^>]*src="([^"]+)"/)?.[1]
  assert.ok(src, 'out/renderer/index.html has no module script: run `npm run build` first')
  return path.join(RENDERER, src)
}

test('the renderer entry chunk is at most 800 KB uncompressed', () => {
  const size = statSync(entryChunk()).size
  assert.ok(size <= ENTRY_LIMIT, `entry chunk is ${(size / 1024).toFixed(0)} KB; the limit is 800 KB. Load the new heavy part with lazyNamed (src/renderer/src/lib/lazyNamed.ts).`)
})

test('charts, terminals and the wizard load as their own chunks, after first paint', () => {
  const entry = readFileSync(entryChunk(), 'utf8')
  for (const feature of ['RunCharts', 'TerminalsView', 'SetupTerminal', 'AddInstanceWizard']) {
    assert.match(entry, new RegExp(`import\\(["'\`]\\./${feature}-[\\w-]+\\.js["'\`]\\)`), `${feature} is not loaded by a dynamic import from the entry chunk`)
  }
})
