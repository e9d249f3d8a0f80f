/**
 * Local validation of a Gantry ONNX model: it must load in onnxruntime-node, carry the trainer's
 * metadata, and reproduce the probe output the trainer computed with torch (max |diff| ≤ 1e-4).
 * Every failure is reported as a sentence naming the cause.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { MAX_VALIDATE_BYTES, type ValidationReport } from '../../../../shared/api/models'
import { readOnnxTopLevel } from './onnxMetadata'
import { parseProbe, type ProbeFile } from './probeFile'
import { runInference, type InferenceLimits, type TensorInfo } from './inferenceProcess'

export const PROBE_TOLERANCE = 1e-4
const REQUIRED_METADATA = ['game', 'obs_shape', 'action_names'] as const
/** A probe is one frame and its logits: a few hundred KB at most. */
const MAX_PROBE_BYTES = 16 * 1024 * 1024
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`

/** The file's text, or null when it is missing or larger than `limit` (never read past it). */
async function readCapped(file: string, limit: number): Promise<{ text: string } | { tooLarge: number } | null> {
  const size = await stat(file).then((s) => s.size, () => null)
  if (size === null) return null
  if (size > limit) return { tooLarge: size }
  return { text: await readFile(file, 'utf8') }
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits)
  const exps = logits.map((x) => Math.exp(x - max))
  const sum = exps.reduce((a, b) => a + b, 0)
  return exps.map((e) => e / sum)
}

function parseJsonArray(text: string | undefined): unknown[] | null {
  if (text === undefined) return null
  try {
    const v: unknown = JSON.parse(text)
    return Array.isArray(v) ? v : null
  } catch {
    return null
  }
}

function shapeProblem(probe: ProbeFile, inputs: TensorInfo[], obsShape: number[] | null): string | null {
  const input = inputs.find((i) => i.name === probe.input_name)
  if (!input) return `Shape mismatch: the probe feeds input "${probe.input_name}", but the model's inputs are ${inputs.map((i) => `"${i.name}"`).join(', ') || 'none'}.`
  if (input.shape.length !== probe.input_shape.length) {
    return `Shape mismatch: the model expects a ${input.shape.length}-D input [${input.shape.join(', ')}], the probe gives [${probe.input_shape.join(', ')}].`
  }
  const bad = input.shape.findIndex((d, i) => typeof d === 'number' && d > 0 && d !== probe.input_shape[i])
  if (bad >= 0) return `Shape mismatch: input dimension ${bad} is ${input.shape[bad]} in the model but ${probe.input_shape[bad]} in the probe.`
  if (obsShape && obsShape.join(',') !== probe.input_shape.slice(1).join(',')) {
    return `Shape mismatch: the metadata says observations are [${obsShape.join(', ')}], the probe gives [${probe.input_shape.slice(1).join(', ')}].`
  }
  return null
}

export interface ValidateOptions {
  modelPath: string
  /** Name shown in the report (the original file name for uploads). */
  displayName?: string
  /** Probe JSON text; undefined: look for `<model>.probe.json` beside the model. */
  probeText?: string | null
  /** Memory and time the ONNX Runtime process may use (tests lower them). */
  limits?: InferenceLimits
}

export async function validateModel(options: ValidateOptions): Promise<ValidationReport> {
  const file = options.displayName ?? path.basename(options.modelPath)
  const report: ValidationReport = { file, validated: false, problems: [], inputs: [], outputs: [], metadata: {}, probe: null }
  const size = (await stat(options.modelPath)).size
  if (size > MAX_VALIDATE_BYTES) {
    report.problems.push(`${file} is ${mb(size)}; Gantry validates models up to ${mb(MAX_VALIDATE_BYTES)} (its trainer's models are a few MB), so it was not opened. Check that this is the model you meant.`)
    return report
  }
  const bytes = await readFile(options.modelPath)
  const top = readOnnxTopLevel(bytes)
  if (!top.ok) {
    report.problems.push(`${file} is not an ONNX file: ${top.reason}. Choose a .onnx model exported by Gantry's trainer.`)
    return report
  }
  report.metadata = top.metadata

  const missing = REQUIRED_METADATA.filter((k) => !(k in top.metadata))
  const actionNames = parseJsonArray(top.metadata.action_names)?.map(String) ?? null
  const obsShape = (parseJsonArray(top.metadata.obs_shape)?.map(Number) ?? null) as number[] | null
  if (missing.length) report.problems.push(`Missing metadata: ${file} has no ${missing.join(', ')}. It was not exported by Gantry's trainer, so its actions cannot be named; re-export it from the run.`)
  else if (!actionNames || !obsShape) report.problems.push(`Missing metadata: action_names or obs_shape in ${file} is not a JSON list. Re-export the model from the run.`)

  let probeText = options.probeText
  let probeTooLarge: number | null = null
  if (probeText === undefined) {
    const read = await readCapped(`${options.modelPath}.probe.json`, MAX_PROBE_BYTES)
    probeText = read && 'text' in read ? read.text : null
    probeTooLarge = read && 'tooLarge' in read ? read.tooLarge : null
  }
  let probe: ProbeFile | null = null
  if (probeTooLarge !== null) report.problems.push(`Bad probe file: ${file}.probe.json is ${mb(probeTooLarge)}, far more than one probe frame, so it was not read.`)
  else if (probeText === null) report.problems.push(`No probe file: ${file}.probe.json was not found, so the outputs could not be checked against the trainer's. Download the probe too (or drop it with the model).`)
  else {
    const parsed = parseProbe(probeText)
    if (parsed.ok) probe = parsed.probe
    else report.problems.push(`Bad probe file: ${parsed.reason}.`)
  }

  const first = await runInference({ modelPath: options.modelPath, feed: null, runs: 0 }, options.limits)
  report.inputs = first.inputs
  report.outputs = first.outputs
  if (!first.ok) {
    report.problems.unshift(`${file} could not be loaded by ONNX Runtime: ${first.message}. The file may be truncated or damaged; download it again.`)
    return report
  }
  if (!probe) return report
  const mismatch = shapeProblem(probe, first.inputs, obsShape)
  if (mismatch) {
    report.problems.push(mismatch)
    return report
  }

  const run = await runInference({ modelPath: options.modelPath, feed: { name: probe.input_name, shape: probe.input_shape, data: probe.input }, runs: 20 }, options.limits)
  if (!run.ok) {
    report.problems.push(`Running the probe failed: ${run.message}.`)
    return report
  }
  const out = run.output!
  if (out.data.length !== probe.output.length) {
    report.problems.push(`Shape mismatch: the model returns ${out.data.length} values for the probe frame, the trainer recorded ${probe.output.length}.`)
    return report
  }
  const numActions = probe.output.length / probe.input_shape[0]
  if (actionNames && actionNames.length !== numActions) {
    report.problems.push(`Shape mismatch: the model has ${numActions} action logits but its metadata names ${actionNames.length} actions.`)
  }
  let maxAbsDiff = 0
  for (let i = 0; i < out.data.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(out.data[i] - probe.output[i]))
  if (!Number.isFinite(maxAbsDiff)) maxAbsDiff = Number.MAX_VALUE
  const probs = softmax(out.data.slice(0, numActions))
  report.probe = {
    maxAbsDiff,
    tolerance: PROBE_TOLERANCE,
    latencyMs: run.latencyMs ?? 0,
    actions: probs.map((p, i) => ({ name: actionNames?.[i] ?? `action ${i}`, probability: p })),
  }
  if (maxAbsDiff > PROBE_TOLERANCE) {
    report.problems.push(`Output drift: on the probe frame the model's logits differ from the trainer's by up to ${maxAbsDiff.toExponential(2)} (allowed ${PROBE_TOLERANCE}). The file was altered or does not match its probe.`)
  }
  report.validated = report.problems.length === 0
  return report
}
