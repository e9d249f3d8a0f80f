/**
 * Validation of untrusted models runs ONNX Runtime in a child process with a memory cap and a
 * time limit: a model that never finishes is killed at the limit, one that asks for gigabytes
 * fails inside its own process, an oversized file is not read at all, and the backend (this
 * test process) carries on with a report each time.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_VALIDATE_BYTES } from '../../../../shared/api/models'
import { pidsWhereArgv } from '../../../../../test/rig/procs'
import { REPO_ROOT, requirePrerequisite } from '../../../../../test/support/prerequisites'
import { torchAvailable, VENV_PYTHON } from '../../../../../test/support/models/onnxFixtures'
import { validateModel } from './validate'

const HOSTILE = path.join(REPO_ROOT, 'test', 'support', 'models', 'hostile_onnx.py')
const inferenceChildren = () => pidsWhereArgv((argv) => argv.some((a) => a.includes('ortPath')) && argv.includes('-e'))

describe.skipIf(!requirePrerequisite(torchAvailable(), 'Python venv with onnx', 'create .venv with `pip install torch onnx numpy` (see .ci/run)'))('validating hostile models', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-hostile-onnx-'))
  const make = (kind: string) => {
    const r = spawnSync(VENV_PYTHON, [HOSTILE, dir, kind], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`hostile_onnx.py ${kind} failed: ${r.stderr}`)
    return r.stdout.trim()
  }
  let hang: string
  let memory: string
  beforeAll(() => {
    hang = make('hang')
    memory = make('memory')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('does not read a file larger than the cap', async () => {
    const big = path.join(dir, 'big.onnx')
    const fd = openSync(big, 'w')
    ftruncateSync(fd, MAX_VALIDATE_BYTES + 1) // sparse: no disk used
    closeSync(fd)
    const report = await validateModel({ modelPath: big })
    expect(report.validated).toBe(false)
    expect(report.problems.join(' ')).toMatch(/validates models up to 256 MB.*not opened/)
  })

  it('kills a model that never finishes at the time limit, and leaves no process behind', async () => {
    const started = Date.now()
    const validation = validateModel({ modelPath: hang, limits: { timeoutMs: 4000 } })
    await expect.poll(() => inferenceChildren().length, { timeout: 4000 }).toBe(1)
    const report = await validation
    expect(report.validated).toBe(false)
    expect(report.problems.join(' ')).toMatch(/did not finish within 4 s and was stopped/)
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(inferenceChildren()).toEqual([])
  }, 30_000)

  it('stops a model that asks for gigabytes at the memory cap, in its own process', async () => {
    const rssBefore = process.memoryUsage().rss
    const report = await validateModel({ modelPath: memory, limits: { memoryBytes: 2 * 1024 ** 3 } })
    expect(report.validated).toBe(false)
    expect(report.problems.join(' ')).toMatch(/Running the probe failed: .*(allocat|memory)/i)
    // The 4 GiB never landed in this process.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 ** 2)
  }, 60_000)
})
