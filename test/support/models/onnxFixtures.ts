/** Test helper: real Gantry ONNX models made by scripts/make-onnx-fixture.py (trainer export code). */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../prerequisites'

export const VENV_PYTHON = process.env.GANTRY_TEST_PYTHON ?? path.join(REPO_ROOT, '.venv', 'bin', 'python')

export function torchAvailable(): boolean {
  return existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status === 0
}

export interface FixtureEntry {
  file: string
  sha256: string
  size: number
  probe: string
}

export function makeOnnxFixture(outDir: string, options: { game?: string; tamper?: 'weights' | 'metadata' } = {}): FixtureEntry {
  const args = [path.join(REPO_ROOT, 'scripts', 'make-onnx-fixture.py'), outDir]
  if (options.game) args.push('--game', options.game)
  if (options.tamper) args.push('--tamper', options.tamper)
  const r = spawnSync(VENV_PYTHON, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`make-onnx-fixture failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as FixtureEntry
}
