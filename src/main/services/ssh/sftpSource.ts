/**
 * stat + ranged reads over an ssh2 SFTP session with many reads in flight, the way OpenSSH's `sftp`
 * pipelines its requests: on a high-latency link one request at a time would crawl.
 * Chunks are delivered in file order; memory is bounded by `concurrency × chunkSize`. The SSH
 * channel's receive window is kept at twice that, so it does not cap the reads in flight.
 */
import { Readable } from 'node:stream'
import type { SFTPWrapper } from 'ssh2'
import type { HostSession, HostFileStat } from '../host/hostSession'
import { keepReceiveWindow } from './sftpWindow'

export interface SftpSourceOptions {
  /** Bytes per read request (OpenSSH servers cap one read at ~256 KiB). */
  chunkSize?: number
  /** Read requests kept in flight. */
  concurrency?: number
}

interface Segment {
  pos: number
  len: number
  buf: Buffer
  filled: number
  done: boolean
}

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))))
}

class SftpRangeStream extends Readable {
  private handle: Buffer | null = null
  private nextPos: number
  private end: number | undefined
  private readonly queue: Segment[] = []
  private wanted = false

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly path: string,
    start: number,
    end: number | undefined,
    private readonly chunkSize: number,
    private readonly concurrency: number,
  ) {
    super({ highWaterMark: chunkSize * 2 })
    this.nextPos = start
    this.end = end
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.sftp.open(this.path, 'r', (err, handle) => {
      if (err) return callback(err)
      this.handle = handle
      if (this.end !== undefined) return callback()
      this.sftp.fstat(handle, (statErr, stats) => {
        if (statErr) return callback(statErr)
        this.end = stats.size
        callback()
      })
    })
  }

  override _read(): void {
    this.wanted = true
    this.pump()
  }

  private pump(): void {
    if (this.destroyed || !this.handle || this.end === undefined) return
    while (this.wanted && this.queue.length > 0 && this.queue[0].done) {
      const seg = this.queue.shift()!
      this.wanted = this.push(seg.buf)
    }
    while (this.queue.length < this.concurrency && this.nextPos < this.end) {
      const len = Math.min(this.chunkSize, this.end - this.nextPos)
      const seg: Segment = { pos: this.nextPos, len, buf: Buffer.allocUnsafe(len), filled: 0, done: false }
      this.nextPos += len
      this.queue.push(seg)
      this.request(seg)
    }
    if (this.queue.length === 0 && this.nextPos >= this.end && this.wanted) this.push(null)
  }

  private request(seg: Segment): void {
    const handle = this.handle!
    this.sftp.read(handle, seg.buf, seg.filled, seg.len - seg.filled, seg.pos + seg.filled, (err, bytesRead) => {
      if (this.destroyed) return
      if (err) return this.destroy(err)
      if (bytesRead === 0) {
        return this.destroy(new Error(`${this.path} ended at ${seg.pos + seg.filled} bytes, before the expected ${this.end}; it shrank on the host.`))
      }
      seg.filled += bytesRead
      if (seg.filled < seg.len) return this.request(seg) // short read: ask for the rest of this segment
      seg.done = true
      this.pump()
    })
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle
    this.handle = null
    // Never wait for the close reply: on a dead connection it never comes, and the error
    // would never reach the reader.
    if (handle) {
      try {
        this.sftp.close(handle, () => {})
      } catch {
        // the channel is already gone
      }
    }
    callback(error)
  }
}

export function createSftpSource(sftp: SFTPWrapper, options: SftpSourceOptions = {}): Pick<HostSession, 'stat' | 'readRange'> {
  const chunkSize = options.chunkSize ?? 128 * 1024
  const concurrency = options.concurrency ?? 32
  // Twice the reads in flight, so the window never holds them back (ssh2's own 2 MiB did: sftpWindow.ts).
  keepReceiveWindow(sftp, 2 * chunkSize * concurrency)
  return {
    async stat(path: string): Promise<HostFileStat> {
      const s = await sftpCall<{ size: number; mtime: number }>((cb) => sftp.stat(path, cb))
      return { size: s.size, mtimeMs: s.mtime * 1000 }
    },
    readRange(path: string, start: number, end?: number): Readable {
      return new SftpRangeStream(sftp, path, start, end, chunkSize, concurrency)
    },
  }
}
