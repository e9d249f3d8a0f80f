/**
 * Validation with the real onnxruntime-node (in a worker thread) on models exported by the
 * trainer's own export code: a good one validates; tampered ones fail with the exact reason.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requirePrerequisite } from '../../../../../test/support/prerequisites'
import { makeOnnxFixture, torchAvailable, type FixtureEntry } from '../../../../../test/support/models/onnxFixtures'
import { validateModel } from './validate'

describe.skipIf(!requirePrerequisite(torchAvailable(), 'Python venv with torch and onnx', 'create .venv with `pip install torch onnx numpy` (see .ci/run)'))('validateModel', () => {
  let dir: string
  let good: FixtureEntry
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-onnx-'))
    good = makeOnnxFixture(path.join(dir, 'good'))
    makeOnnxFixture(path.join(dir, 'drift'), { tamper: 'weights' })
    makeOnnxFixture(path.join(dir, 'nometa'), { tamper: 'metadata' })
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('validates a model exported by the trainer and shows its actions', async () => {
    const report = await validateModel({ modelPath: path.join(dir, 'good', good.file) })
    expect(report.problems).toEqual([])
    expect(report.validated).toBe(true)
    expect(report.metadata.game).toBe('breakout')
    expect(report.inputs).toEqual([{ name: 'obs', type: 'float32', shape: ['batch', 4, 10, 10] }])
    expect(report.outputs[0]).toMatchObject({ name: 'logits', type: 'float32' })
    expect(report.probe!.maxAbsDiff).toBeLessThanOrEqual(1e-4)
    expect(report.probe!.latencyMs).toBeGreaterThan(0)
    expect(report.probe!.actions.map((a) => a.name)).toEqual(['noop', 'left', 'right'])
    const total = report.probe!.actions.reduce((s, a) => s + a.probability, 0)
    expect(total).toBeCloseTo(1, 6)
    // The distribution is the softmax of the trainer's own logits for the probe frame.
    const logits = (JSON.parse(readFileSync(path.join(dir, 'good', good.probe), 'utf8')) as { output: number[] }).output
    const e = logits.map((x) => Math.exp(x - Math.max(...logits)))
    expect(report.probe!.actions[0].probability).toBeCloseTo(e[0] / e.reduce((a, b) => a + b), 4)
  })

  it('reports output drift for a model whose weights were changed', async () => {
    const report = await validateModel({ modelPath: path.join(dir, 'drift', good.file) })
    expect(report.validated).toBe(false)
    expect(report.problems).toHaveLength(1)
    expect(report.problems[0]).toMatch(/^Output drift: .* differ from the trainer's by up to .* \(allowed 0\.0001\)/)
    expect(report.probe!.maxAbsDiff).toBeGreaterThan(1e-4)
  })

  it('reports missing metadata', async () => {
    const report = await validateModel({ modelPath: path.join(dir, 'nometa', good.file) })
    expect(report.validated).toBe(false)
    expect(report.problems).toEqual([expect.stringMatching(/^Missing metadata: breakout-4096\.onnx has no game, obs_shape, action_names\./)])
  })

  it('reports a shape mismatch when the probe does not fit the model', async () => {
    const modelPath = path.join(dir, 'shape', good.file)
    rmSync(path.dirname(modelPath), { recursive: true, force: true })
    makeOnnxFixture(path.dirname(modelPath))
    const probe = JSON.parse(readFileSync(`${modelPath}.probe.json`, 'utf8')) as { input_shape: number[]; input: number[] }
    probe.input_shape = [1, 4, 5, 20]
    writeFileSync(`${modelPath}.probe.json`, JSON.stringify(probe))
    const report = await validateModel({ modelPath })
    expect(report.validated).toBe(false)
    expect(report.problems).toEqual(['Shape mismatch: input dimension 2 is 10 in the model but 5 in the probe.'])
  })

  it('says a file that is not ONNX is not an ONNX file', async () => {
    const fake = path.join(dir, 'fake.onnx')
    // What the fake trainer writes: bytes that only pretend to be a model.
    writeFileSync(fake, Buffer.concat([Buffer.from('FAKEONNX'), Buffer.alloc(256, 7)]))
    const report = await validateModel({ modelPath: fake, probeText: null })
    expect(report.validated).toBe(false)
    expect(report.problems).toEqual([expect.stringMatching(/^fake\.onnx is not an ONNX file: .*Choose a \.onnx model exported by Gantry's trainer\.$/)])
  })

  it('says a truncated model cannot be loaded, and a missing probe is named', async () => {
    const truncated = path.join(dir, 'trunc', good.file)
    rmSync(path.dirname(truncated), { recursive: true, force: true })
    makeOnnxFixture(path.dirname(truncated))
    const bytes = readFileSync(truncated)
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)))
    const report = await validateModel({ modelPath: truncated })
    expect(report.validated).toBe(false)
    expect(report.problems[0]).toMatch(/is not an ONNX file|could not be loaded by ONNX Runtime/)

    const lonely = path.join(dir, 'lonely.onnx')
    copyFileSync(path.join(dir, 'good', good.file), lonely)
    const noProbe = await validateModel({ modelPath: lonely })
    expect(noProbe.validated).toBe(false)
    expect(noProbe.problems).toEqual([expect.stringMatching(/^No probe file: lonely\.onnx\.probe\.json was not found/)])
    expect(noProbe.inputs[0].name).toBe('obs')
  })
})
