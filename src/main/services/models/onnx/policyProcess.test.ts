/**
 * The model process that serves a policy while it plays: a hostile model that never answers is
 * stopped at the step limit, one that asks for gigabytes dies in its own process, and neither
 * leaves a process behind or hangs the backend; each failure says what happened.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pidsWhereArgv } from '../../../../../test/rig/procs'
import { REPO_ROOT, requirePrerequisite } from '../../../../../test/support/prerequisites'
import { makeOnnxFixture, torchAvailable, VENV_PYTHON } from '../../../../../test/support/models/onnxFixtures'
import { startPolicyProcess } from './policyProcess'

const HOSTILE = path.join(REPO_ROOT, 'test', 'support', 'models', 'hostile_onnx.py')
const policyChildren = () => pidsWhereArgv((argv) => argv.some((a) => a.includes('function policyServer')) && argv.includes('-e'))

describe.skipIf(!requirePrerequisite(torchAvailable(), 'Python venv with torch and onnx', 'create .venv with `pip install torch onnx numpy` (see .ci/run)'))('policy process', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-policy-'))
  const hostile = (kind: string) => {
    const r = spawnSync(VENV_PYTHON, [HOSTILE, dir, kind], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`hostile_onnx.py ${kind} failed: ${r.stderr}`)
    return r.stdout.trim()
  }
  let good: string
  beforeAll(() => {
    good = path.join(dir, 'good', makeOnnxFixture(path.join(dir, 'good')).file)
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('answers each observation with the logits of the real exported model', async () => {
    const policy = await startPolicyProcess({ modelPath: good, inputName: 'obs', obsShape: [4, 10, 10] })
    const a = await policy.logits(new Float32Array(400))
    const b = await policy.logits(new Float32Array(400).fill(1))
    policy.close()
    expect(a).toHaveLength(3)
    expect(Array.from(a).every(Number.isFinite)).toBe(true)
    expect(Array.from(a)).not.toEqual(Array.from(b))
  })

  it('says why when the model cannot be loaded', async () => {
    await expect(startPolicyProcess({ modelPath: path.join(dir, 'missing.onnx'), inputName: 'obs', obsShape: [4] })).rejects.toThrow(/missing\.onnx|No such file|Load model/i)
    await expect.poll(() => policyChildren().length, { timeout: 5000 }).toBe(0)
  })

  it('stops a model that never answers at the step limit, and leaves no process behind', async () => {
    const policy = await startPolicyProcess({ modelPath: hostile('hang'), inputName: 'obs', obsShape: [4] }, { stepTimeoutMs: 3000 })
    expect(policyChildren()).toHaveLength(1)
    const started = Date.now()
    await expect(policy.logits(new Float32Array(4))).rejects.toThrow('the model did not answer within 3 s and was stopped')
    expect(Date.now() - started).toBeLessThan(10_000)
    await expect(policy.logits(new Float32Array(4))).rejects.toThrow('the model did not answer within 3 s and was stopped')
    await expect.poll(() => policyChildren().length, { timeout: 5000 }).toBe(0)
  }, 30_000)

  it('keeps a model that asks for gigabytes inside its own process', async () => {
    const rssBefore = process.memoryUsage().rss
    const policy = await startPolicyProcess({ modelPath: hostile('memory'), inputName: 'obs', obsShape: [4] }, { memoryBytes: 2 * 1024 ** 3 })
    await expect(policy.logits(new Float32Array(4))).rejects.toThrow(/allocat|memory|ONNX Runtime (was killed|exited)/i)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 ** 2)
    await expect.poll(() => policyChildren().length, { timeout: 5000 }).toBe(0)
  }, 60_000)
})
