// The project's .npmrc holds only settings npm knows: an unknown key made every npm command warn
// `Unknown project config "onnxruntime-node-install"` (onnxruntime's skip now travels as its
// documented ONNXRUNTIME_NODE_INSTALL variable, set by scripts/install.mjs and .ci/run).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = path.resolve(__dirname, '../..')

describe('.npmrc', () => {
  it('npm reads it without a warning', () => {
    const result = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: REPO, encoding: 'utf8' })
    expect(result.status).toBe(0)
    expect(result.stdout.trim()).toBe('"gantry"')
    expect(result.stderr).not.toMatch(/Unknown (project|user|env) config/)
  })
})
