/**
 * onnxruntime-node in a child process with a memory cap and a time limit, because the model is
 * untrusted: a native crash, a memory blow-up or a graph that never finishes ends that process
 * (killed with SIGKILL at the limit), never the backend. The job is one self-contained function
 * whose source runs with `node -e` (Electron's own binary as Node via ELECTRON_RUN_AS_NODE), so
 * it works the same in the Electron main bundle, the web host bundle and vitest.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'

/** Address space the validating process may use (RLIMIT_AS): room for Node, ONNX Runtime and a 256 MB model. */
export const INFERENCE_MEMORY_BYTES = 3 * 1024 ** 3
export const INFERENCE_TIMEOUT_MS = 60_000
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

export interface InferenceJob {
  ortPath: string
  modelPath: string
  feed: { name: string; shape: number[]; data: number[] } | null
  /** Timed runs after one warm-up run, for the latency figure. */
  runs: number
}

export interface TensorInfo {
  name: string
  type: string
  shape: Array<number | string>
}

export type InferenceResult =
  | { ok: true; inputs: TensorInfo[]; outputs: TensorInfo[]; output: { name: string; data: number[]; dims: number[] } | null; latencyMs: number | null }
  | { ok: false; stage: 'load' | 'run'; message: string; inputs: TensorInfo[]; outputs: TensorInfo[] }

/* The body below runs inside the child process: it may use only its argument and `require`. */
async function inferenceJob(job: InferenceJob, req: (id: string) => unknown): Promise<InferenceResult> {
  type Ort = typeof import('onnxruntime-node')
  const ort = req(job.ortPath) as Ort
  const describe = (metas: readonly unknown[]): Array<{ name: string; type: string; shape: Array<number | string> }> =>
    metas.map((m) => {
      const meta = m as { name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }
      return { name: meta.name, type: meta.isTensor ? String(meta.type) : 'non-tensor', shape: meta.isTensor ? [...(meta.shape ?? [])] : [] }
    })
  let session: import('onnxruntime-node').InferenceSession
  try {
    session = await ort.InferenceSession.create(job.modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' })
  } catch (error) {
    return { ok: false, stage: 'load', message: (error as Error).message, inputs: [], outputs: [] }
  }
  const inputs = describe(session.inputMetadata)
  const outputs = describe(session.outputMetadata)
  if (!job.feed) {
    await session.release()
    return { ok: true, inputs, outputs, output: null, latencyMs: null }
  }
  try {
    const tensor = new ort.Tensor('float32', Float32Array.from(job.feed.data), job.feed.shape)
    const feeds = { [job.feed.name]: tensor }
    let result = await session.run(feeds)
    const times: number[] = []
    for (let i = 0; i < job.runs; i++) {
      const t0 = performance.now()
      result = await session.run(feeds)
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    const name = session.outputNames[0]
    const out = result[name] as unknown as { data: ArrayLike<number>; dims: readonly number[] }
    await session.release()
    return { ok: true, inputs, outputs, output: { name, data: Array.from(out.data, Number), dims: [...out.dims] }, latencyMs: times.length ? times[Math.floor(times.length / 2)] : null }
  } catch (error) {
    await session.release().catch(() => {})
    return { ok: false, stage: 'run', message: (error as Error).message, inputs, outputs }
  }
}

const CHILD_SOURCE = `
const job = (${inferenceJob.toString()});
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  job(JSON.parse(input), require)
    .catch((error) => ({ ok: false, stage: 'load', message: String((error && error.message) || error), inputs: [], outputs: [] }))
    .then((result) => process.stdout.write(JSON.stringify(result) + '\\n', () => process.exit(0)));
});
`

export function onnxRuntimePath(): string {
  const req = typeof require === 'function' ? require : createRequire(path.join(process.cwd(), 'package.json'))
  return req.resolve('onnxruntime-node')
}

export interface InferenceLimits {
  memoryBytes?: number
  timeoutMs?: number
}

/**
 * argv that starts Node (Electron as Node) under the memory cap, running `source` (the validation
 * job by default; policyProcess.ts serves a policy the same way). Windows has no ulimit, and a
 * system that refuses the limit (some macOS versions) still validates: the time limit holds.
 */
export function childArgv(memoryBytes: number, source: string = CHILD_SOURCE): string[] {
  const node = [process.execPath, '--max-old-space-size=512', '-e', source]
  if (process.platform === 'win32') return node
  return ['/bin/sh', '-c', 'ulimit -v "$1" 2>/dev/null; shift; exec "$@"', 'sh', String(Math.floor(memoryBytes / 1024)), ...node]
}

/** Run one job; every failure (load error, crash, memory cap, time limit) comes back as `ok: false` with a reason. */
export function runInference(job: Omit<InferenceJob, 'ortPath'>, limits: InferenceLimits = {}): Promise<InferenceResult> {
  const memoryBytes = limits.memoryBytes ?? INFERENCE_MEMORY_BYTES
  const timeoutMs = limits.timeoutMs ?? INFERENCE_TIMEOUT_MS
  const stage = job.feed ? 'run' : 'load'
  const failed = (message: string): InferenceResult => ({ ok: false, stage, message, inputs: [], outputs: [] })
  return new Promise((resolve) => {
    const [file, ...args] = childArgv(memoryBytes)
    const child = spawn(file, args, { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let verdict: string | null = null
    const stop = (why: string) => {
      verdict ??= why
      child.kill('SIGKILL')
    }
    const timer = setTimeout(() => stop(`it did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`), timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.length > MAX_ANSWER_BYTES) stop('its answer was larger than any model output can be')
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)))
    child.stdin.on('error', () => {})
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve(failed(`the validation process could not start (${error.message})`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (verdict) return resolve(failed(verdict))
      try {
        return resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as InferenceResult)
      } catch {
        const last = stderr.trim().split('\n').filter(Boolean).pop()?.slice(0, 300)
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        resolve(failed(`ONNX Runtime ${how}${last ? ` (${last})` : ''}; the model may need more than the ${Math.round(memoryBytes / 1024 ** 3)} GiB allowed for validating it, or it crashes ONNX Runtime`))
      }
    })
    child.stdin.end(JSON.stringify({ ...job, ortPath: onnxRuntimePath() }))
  })
}
