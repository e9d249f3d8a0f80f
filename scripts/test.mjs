#!/usr/bin/env node
// `npm test`: every check, in order, with a one-line verdict per step and a closing count.
// Steps: typecheck, lint (eslint), ruff (remote/ Python), unit tests (vitest), remote tests (pytest), build,
// build checks (the built bundle, with node's test runner), e2e (Playwright).
import { spawn } from 'node:child_process'

const steps = [
  { name: 'typecheck', cmd: 'npm', args: ['run', '-s', 'typecheck'] },
  { name: 'lint', cmd: 'npm', args: ['run', '-s', 'lint'] },
  { name: 'ruff', cmd: 'node', args: ['scripts/ruff.mjs'] },
  { name: 'unit', cmd: 'npx', args: ['vitest', 'run'], count: /Tests\s+(?:(\d+) failed \| )?(\d+) passed/ },
  { name: 'remote', cmd: 'node', args: ['scripts/pytest.mjs'], count: /(?:(\d+) failed, )?(\d+) passed/ },
  { name: 'build', cmd: 'npm', args: ['run', '-s', 'build'] },
  { name: 'bundle', cmd: 'node', args: ['--test', 'test/build/entryChunk.test.mjs'] },
  { name: 'e2e', cmd: 'npx', args: ['playwright', 'test'], count: /(?:(\d+) failed[\s\S]*?)?(\d+) passed/ },
]
const only = process.argv.slice(2)
let passed = 0
let failed = 0
const verdicts = []

for (const step of steps.filter((s) => only.length === 0 || only.includes(s.name))) {
  const started = Date.now()
  const output = await new Promise((resolve) => {
    let text = ''
    const child = spawn(step.cmd, step.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } })
    child.stdout.on('data', (c) => (process.stdout.write(c), (text += c)))
    child.stderr.on('data', (c) => (process.stderr.write(c), (text += c)))
    child.on('close', (code) => resolve({ code, text }))
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  const ok = output.code === 0
  if (step.count) {
    // Some runners colour their summary even when asked not to: match on the plain text.
    // The summary is the last match: test output above it may mention "passed" too.
    const plain = output.text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    const m = [...plain.matchAll(new RegExp(step.count, 'g'))].pop()
    passed += m ? Number(m[2] ?? 0) : 0
    failed += m ? Number(m[1] ?? 0) : ok ? 0 : 1
  } else if (ok) {
    passed++
  } else {
    failed++
  }
  verdicts.push(`${ok ? 'ok  ' : 'FAIL'} ${step.name} (${seconds}s)`)
  if (!ok) break
}
console.log(`\n${verdicts.join('\n')}`)
console.log(`total: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && verdicts.every((v) => v.startsWith('ok')) ? 0 : 1)
