/**
 * An untrusted model as a policy: onnxruntime-node in the same kind of isolated child as
 * validation (inferenceProcess.ts: Electron as Node, memory cap, SIGKILL at a time limit), kept
 * alive for an episode. The backend sends one observation a line and gets that observation's
 * logits back; the game itself runs in the backend, so only the model is in the child.
 * A crash, a memory blow-up, a step that never answers or a malformed answer ends the child and
 * rejects the pending step with a sentence saying which; nothing waits forever.
 *
 * Lines, JSON: first {runtimePath, modelPath, inputName, obsShape}, answered {ready: true} or {error};
 * then {obs: base64 float32} answered {logits: base64 float32} or {error}.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { childArgv, INFERENCE_MEMORY_BYTES, INFERENCE_TIMEOUT_MS, onnxRuntimePath } from './inferenceProcess'

/** One step of a small policy takes well under a millisecond; this only catches a model that hangs. */
export const POLICY_STEP_TIMEOUT_MS = 10_000
const MAX_LINE_CHARS = 1024 * 1024

export interface PolicyJob {
  runtimePath: string
  modelPath: string
  inputName: string
  obsShape: number[]
}

/* The body below runs inside the child process: it may use only its arguments and `require`. */
function policyServer(req: (id: string) => unknown, input: NodeJS.ReadableStream, write: (line: string) => void): void {
  type Ort = typeof import('onnxruntime-node')
  const rl = (req('node:readline') as typeof import('node:readline')).createInterface({ input })
  let session: import('onnxruntime-node').InferenceSession | null = null
  let ort: Ort | null = null
  let job: PolicyJob | null = null
  const queue: string[] = []
  let busy = false
  const fail = (message: string) => {
    write(JSON.stringify({ error: message }))
    process.exit(1)
  }
  const next = async (): Promise<void> => {
    if (busy || queue.length === 0) return
    busy = true
    const line = queue.shift() as string
    try {
      if (!job) {
        job = JSON.parse(line) as PolicyJob
        ort = req(job.runtimePath) as Ort
        session = await ort.InferenceSession.create(job.modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1 })
        write(JSON.stringify({ ready: true }))
      } else {
        const { obs } = JSON.parse(line) as { obs: string }
        const bytes = Buffer.from(obs, 'base64')
        const data = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4)).slice()
        const tensor = new (ort as Ort).Tensor('float32', data, [1, ...job.obsShape])
        const result = await (session as import('onnxruntime-node').InferenceSession).run({ [job.inputName]: tensor })
        const out = result[(session as import('onnxruntime-node').InferenceSession).outputNames[0]] as unknown as { data: Float32Array }
        const logits = Float32Array.from(out.data as ArrayLike<number>)
        write(JSON.stringify({ logits: Buffer.from(logits.buffer).toString('base64') }))
      }
    } catch (error) {
      fail(String((error as Error)?.message ?? error))
    }
    busy = false
    void next()
  }
  rl.on('line', (line: string) => {
    queue.push(line)
    void next()
  })
  rl.on('close', () => process.exit(0))
}

const CHILD_SOURCE = `
(${policyServer.toString()})(require, process.stdin, (line) => process.stdout.write(line + '\\n'));
`

export interface PolicyProcess {
  /** The model's logits for one observation (obsShape values, channel-major). */
  logits(obs: Float32Array): Promise<Float32Array>
  close(): void
}

export interface PolicyLimits {
  memoryBytes?: number
  loadTimeoutMs?: number
  stepTimeoutMs?: number
}

/** Start the child and load the model; rejects with the reason when it cannot. */
export function startPolicyProcess(job: Omit<PolicyJob, 'runtimePath'>, limits: PolicyLimits = {}): Promise<PolicyProcess> {
  const memoryBytes = limits.memoryBytes ?? INFERENCE_MEMORY_BYTES
  const stepTimeoutMs = limits.stepTimeoutMs ?? POLICY_STEP_TIMEOUT_MS
  const [file, ...args] = childArgv(memoryBytes, CHILD_SOURCE)
  const child = spawn(file, args, { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  let ended: string | null = null
  let pending: { resolve(line: Record<string, unknown>): void; reject(error: Error): void; timer: ReturnType<typeof setTimeout> } | null = null

  const finish = (why: string) => {
    ended ??= why
    child.kill('SIGKILL')
    if (pending) {
      clearTimeout(pending.timer)
      pending.reject(new Error(ended))
      pending = null
    }
  }
  const request = (line: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    if (ended) return Promise.reject(new Error(ended))
    if (pending) return Promise.reject(new Error('the model process got a second request before answering the first'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(`the model did not answer within ${Math.round(timeoutMs / 1000)} s and was stopped`), timeoutMs)
      pending = { resolve, reject, timer }
      child.stdin.write(`${line}\n`)
    })
  }

  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)))
  child.stdin.on('error', () => {})
  child.on('error', (error) => finish(`the model process could not start (${error.message})`))
  child.on('close', (code, signal) => {
    const last = stderr.trim().split('\n').filter(Boolean).pop()?.slice(0, 300)
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    finish(`ONNX Runtime ${how}${last ? ` (${last})` : ''}; the model may need more than the ${Math.round(memoryBytes / 1024 ** 3)} GiB allowed, or it crashes ONNX Runtime`)
  })
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => {
    if (!pending) return finish('the model process said something it was not asked')
    if (line.length > MAX_LINE_CHARS) return finish('the model process answered with more than any policy output can be')
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      return finish('the model process answered with something that is not JSON')
    }
    if (typeof parsed !== 'object' || parsed === null) return finish('the model process answered with something that is not an object')
    const answer = parsed as Record<string, unknown>
    if (typeof answer.error === 'string') return finish(answer.error)
    const { resolve, timer } = pending
    clearTimeout(timer)
    pending = null
    resolve(answer)
  })

  const policy: PolicyProcess = {
    async logits(obs) {
      const answer = await request(JSON.stringify({ obs: Buffer.from(obs.buffer, obs.byteOffset, obs.byteLength).toString('base64') }), stepTimeoutMs)
      if (typeof answer.logits !== 'string') throw new Error('the model process answered without logits')
      const bytes = Buffer.from(answer.logits, 'base64')
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length - (bytes.length % 4)))
    },
    close() {
      ended ??= 'the episode is over'
      child.stdin.end()
      // A child that ignores its closed input still ends: SIGKILL shortly after.
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    },
  }
  // Loading gets validation's time limit: a large model takes longer to load than to step.
  return request(JSON.stringify({ ...job, runtimePath: onnxRuntimePath() }), limits.loadTimeoutMs ?? INFERENCE_TIMEOUT_MS).then(
    () => policy,
    (error: Error) => {
      child.kill('SIGKILL')
      throw error
    },
  )
}
