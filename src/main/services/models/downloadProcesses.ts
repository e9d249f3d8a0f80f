/**
 * Verified downloads from SSH instances run in a download process per instance
 * (ssh/downloadChild.ts), each with its own SSH connection, so the bytes, their hashing and the
 * garbage they make stay off the app's event loop and in a V8 heap sized for them.
 *
 * The process is Node: Electron's own binary as Node (ELECTRON_RUN_AS_NODE, as the model
 * processes in onnx/ run) in the app, `node` in the web host, so the V8 flags below apply the
 * same everywhere. It starts on the first download of an instance and ends after `idleMs`
 * without one. Every message from it is parsed; one that does not parse stops it. When it dies
 * mid-download, that download fails with a message saying so, and its part file (written and
 * described by downloader.ts) is resumed by the next attempt.
 */
import { fork } from 'node:child_process'
import path from 'node:path'
import { RpcError } from '../../../shared/rpc'
import type { DownloadProgress, DownloadResult } from './downloader'
import { VerificationError } from './downloader'
import { ChildMessage, describeParseError, type DownloadConnection, type ParentMessage } from './downloadProtocol'

/**
 * A 256 MB initial old generation: V8 counts the downloaded bytes' ArrayBuffers against the old
 * generation, and at Node's default it ran 25-35 full collections per 256 MB (0-3 with this).
 * Single-threaded GC: the few collections left are not worth helper threads on a busy machine.
 */
export const DOWNLOAD_PROCESS_V8_FLAGS = ['--initial-old-space-size=256', '--single-threaded-gc']

export interface RemoteDownloadRequest {
  instanceId: string
  /** How to reach the instance (with the secrets the app holds in memory for it). */
  connection: DownloadConnection
  remotePath: string
  expectedSha256: string
  expectedSize?: number
  /** The file goes to `root/segments…`; the download process checks it stays inside root. */
  root: string
  segments: string[]
  signal?: AbortSignal
  onProgress?: (p: DownloadProgress) => void
}

export interface DownloadProcesses {
  download(req: RemoteDownloadRequest): Promise<DownloadResult>
  dispose(): void
}

export interface DownloadProcessesOptions {
  /** The built downloadChild.js. */
  modulePath: string
  /** Ends a process this long after its last download (default 60 s). */
  idleMs?: number
}

interface Job {
  name: string
  received: number
  resolve(result: DownloadResult): void
  reject(error: Error): void
  onProgress?: (p: DownloadProgress) => void
}

interface Child {
  send(message: ParentMessage): void
  kill(): void
  /** Whether the process keeps the app's event loop alive: only while it has downloads. */
  hold(busy: boolean): void
  jobs: Map<number, Job>
  idleTimer: NodeJS.Timeout | null
}

function abortError(): Error {
  const error = new Error('The download was cancelled.')
  error.name = 'AbortError'
  return error
}

export function createDownloadProcesses(options: DownloadProcessesOptions): DownloadProcesses {
  const idleMs = options.idleMs ?? 60_000
  const children = new Map<string, Child>()
  let nextId = 0

  /** Fails every download of a process that is gone, then forgets it. */
  const fail = (instanceId: string, child: Child, why: (job: Job) => RpcError) => {
    if (children.get(instanceId) === child) children.delete(instanceId)
    if (child.idleTimer) clearTimeout(child.idleTimer)
    for (const job of child.jobs.values()) job.reject(why(job))
    child.jobs.clear()
  }

  const start = (instanceId: string): Child => {
    const proc = fork(options.modulePath, [], {
      execArgv: DOWNLOAD_PROCESS_V8_FLAGS,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    })
    const child: Child = {
      send: (m) => void proc.send(m),
      kill: () => proc.kill('SIGKILL'),
      hold: (busy) => {
        if (busy) {
          proc.ref()
          proc.channel?.ref()
        } else {
          proc.unref()
          proc.channel?.unref()
        }
      },
      jobs: new Map(),
      idleTimer: null,
    }
    let exitedOnPurpose = false
    const stop = (why: (job: Job) => RpcError) => {
      exitedOnPurpose = true
      proc.kill('SIGKILL')
      fail(instanceId, child, why)
    }
    proc.on('message', (raw: unknown) => {
      const parsed = ChildMessage.safeParse(raw)
      if (!parsed.success) {
        return stop((job) => new RpcError('internal', `The download process sent a message Gantry does not understand (${describeParseError(parsed.error)}), so it was stopped while downloading ${job.name}. The part already downloaded is kept; download again to resume.`))
      }
      const m = parsed.data
      if (m.type === 'protocol_error') {
        return stop((job) => new RpcError('internal', `${m.message} It was stopped while downloading ${job.name}; the part already downloaded is kept. Download again to resume.`))
      }
      const job = child.jobs.get(m.id)
      if (!job) return
      if (m.type === 'progress') {
        job.received = m.received
        job.onProgress?.({ received: m.received, total: m.total, bytesPerSec: m.bytesPerSec })
        return
      }
      child.jobs.delete(m.id)
      if (m.type === 'done') job.resolve({ path: m.path, size: m.size, sha256: m.sha256, resumedFrom: m.resumedFrom })
      else if (m.cancelled) job.reject(abortError())
      else job.reject(m.mismatch ? new VerificationError(m.message) : new RpcError(m.code, m.message))
      if (child.jobs.size === 0) idle(instanceId, child)
    })
    proc.on('error', (error) => {
      stop((job) => new RpcError('internal', `The download process could not run (${error.message}) while downloading ${job.name}. The part already downloaded is kept; download again to resume.`))
    })
    proc.on('exit', (code, signal) => {
      if (exitedOnPurpose) return
      fail(instanceId, child, (job) => {
        const how = signal ? `was ended by ${signal}` : `exited with code ${code}`
        return new RpcError('unreachable', `The download process ${how} after ${job.received} bytes of ${job.name}. The part already downloaded is kept; download again to resume.`)
      })
    })
    return child
  }

  const idle = (instanceId: string, child: Child) => {
    // An idle process must not keep the app from exiting (it ends itself when the app goes).
    child.hold(false)
    if (child.idleTimer) clearTimeout(child.idleTimer)
    child.idleTimer = setTimeout(() => {
      if (child.jobs.size > 0) return
      if (children.get(instanceId) === child) children.delete(instanceId)
      child.kill()
    }, idleMs)
    child.idleTimer.unref()
  }

  return {
    download(req) {
      const name = path.basename(req.segments[req.segments.length - 1])
      if (req.signal?.aborted) return Promise.reject(abortError())
      let child = children.get(req.instanceId)
      if (!child) {
        child = start(req.instanceId)
        children.set(req.instanceId, child)
      }
      if (child.idleTimer) clearTimeout(child.idleTimer)
      child.idleTimer = null
      child.hold(true)
      const id = nextId++
      const owner = child
      return new Promise<DownloadResult>((resolve, reject) => {
        const onAbort = () => owner.send({ type: 'cancel', id })
        req.signal?.addEventListener('abort', onAbort, { once: true })
        const settle = () => req.signal?.removeEventListener('abort', onAbort)
        owner.jobs.set(id, {
          name,
          received: 0,
          onProgress: req.onProgress,
          resolve: (r) => {
            settle()
            resolve(r)
          },
          reject: (e) => {
            settle()
            reject(e)
          },
        })
        owner.send({
          type: 'download',
          id,
          connection: req.connection,
          remotePath: req.remotePath,
          expectedSha256: req.expectedSha256,
          ...(req.expectedSize !== undefined ? { expectedSize: req.expectedSize } : {}),
          root: req.root,
          segments: req.segments,
        })
      })
    },
    dispose() {
      for (const [id, child] of [...children]) {
        child.kill()
        fail(id, child, (job) => new RpcError('cancelled', `Gantry is closing; the part of ${job.name} already downloaded is kept and resumes next time.`))
      }
    },
  }
}
