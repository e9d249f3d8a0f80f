/**
 * Writes a stream of chunks to a file in order and hashes them, with the disk and the network
 * working at the same time: chunks queue while a write is in flight, and each write takes
 * everything queued (one `writev`, far fewer trips to the thread pool than one write per chunk).
 * The hash of a chunk is computed on the main thread while the previous write runs in the pool.
 * Memory is bounded by the caller waiting on `room()` once `queuedBytes` passes its limit.
 */
import type { Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'

/** Most bytes handed to one writev: keeps a single write short enough to interleave with reads. */
const MAX_WRITE_BYTES = 8 * 1024 * 1024

export interface OrderedFileWriter {
  /** Queue a chunk for the next write and add it to the hash. Throws the first write error, if any. */
  push(chunk: Buffer): void
  /** Bytes queued but not written yet. */
  readonly queuedBytes: number
  /** Resolves once the queue is below `bytes` (or rejects with a write error). */
  room(bytes: number): Promise<void>
  /** Waits for every queued byte to be on disk (not fsynced); rethrows a write error. */
  flush(): Promise<void>
}

export function createOrderedFileWriter(handle: FileHandle, position: number, hash: Hash): OrderedFileWriter {
  let queue: Buffer[] = []
  let queued = 0
  let nextPos = position
  let writing: Promise<void> | null = null
  let failure: unknown = null
  let waiter: { below: number; resolve(): void; reject(error: unknown): void } | null = null

  const wake = () => {
    if (!waiter) return
    if (failure) waiter.reject(failure)
    else if (queued < waiter.below) waiter.resolve()
    else return
    waiter = null
  }

  const takeBatch = (): Buffer[] => {
    let bytes = 0
    let n = 0
    while (n < queue.length && (n === 0 || bytes + queue[n].length <= MAX_WRITE_BYTES)) bytes += queue[n++].length
    const batch = queue.slice(0, n)
    queue = queue.slice(n)
    return batch
  }

  async function writeAll(): Promise<void> {
    while (queue.length > 0 && !failure) {
      let batch = takeBatch()
      const batchBytes = batch.reduce((sum, b) => sum + b.length, 0)
      try {
        // writev may write less than asked (rare for files): continue with what is left.
        for (let left = batchBytes; left > 0; ) {
          const { bytesWritten } = await handle.writev(batch, nextPos)
          nextPos += bytesWritten
          left -= bytesWritten
          if (left > 0) batch = dropWritten(batch, bytesWritten)
        }
      } catch (error) {
        failure = error
      }
      queued -= batchBytes
      wake()
    }
  }

  const start = () => {
    if (writing) return
    writing = writeAll().finally(() => {
      writing = null
      if (queue.length > 0 && !failure) start()
    })
  }

  return {
    push(chunk) {
      if (failure) throw failure
      queue.push(chunk)
      queued += chunk.length
      start()
      hash.update(chunk)
    },
    get queuedBytes() {
      return queued
    },
    room(bytes) {
      if (failure) return Promise.reject(failure)
      if (queued < bytes) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        waiter = { below: bytes, resolve, reject }
      })
    },
    async flush() {
      while (writing) await writing
      if (failure) throw failure
    },
  }
}

function dropWritten(batch: Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = []
  for (const b of batch) {
    if (written >= b.length) written -= b.length
    else {
      rest.push(written > 0 ? b.subarray(written) : b)
      written = 0
    }
  }
  return rest
}
