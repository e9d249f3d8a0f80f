/**
 * onnxruntime-node in a worker thread, so loading and running a model never blocks the backend.
 * The job is one self-contained function whose source is handed to an eval'd Worker: that works
 * the same in the Electron main bundle, the web host bundle and vitest, with no extra entry file.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { Worker } from 'node:worker_threads'

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

/* The body below runs inside the worker: it may use only its argument and `require`. */
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

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const job = (${inferenceJob.toString()});
job(workerData, require).then(
  (result) => parentPort.postMessage(result),
  (error) => parentPort.postMessage({ ok: false, stage: 'load', message: String(error && error.message || error), inputs: [], outputs: [] }),
);
`

export function onnxRuntimePath(): string {
  const req = typeof require === 'function' ? require : createRequire(path.join(process.cwd(), 'package.json'))
  return req.resolve('onnxruntime-node')
}

export function runInference(job: Omit<InferenceJob, 'ortPath'>, timeoutMs = 60_000): Promise<InferenceResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...job, ortPath: onnxRuntimePath() } })
    const timer = setTimeout(() => {
      void worker.terminate()
      reject(new Error(`ONNX Runtime did not finish within ${Math.round(timeoutMs / 1000)} s`))
    }, timeoutMs)
    worker.once('message', (result: InferenceResult) => {
      clearTimeout(timer)
      void worker.terminate()
      resolve(result)
    })
    worker.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
