/**
 * One verified download: bytes go to `.<name>.part` (resumed with ranged reads when the host's
 * file is unchanged), are hashed on the way, and only a file whose sha256 matches the expected
 * one is renamed over the final name (file fsync → rename → folder fsync). A partial or
 * unverified file therefore never replaces a verified one.
 *
 * Beside the part file, `.<name>.part.json` remembers which remote file the bytes came from
 * (size, mtime, expected sha256); if any of those changed, the part is discarded and the download
 * restarts instead of splicing two versions together.
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { RpcError } from '../../../shared/rpc'
import { writeFileAtomic } from '../atomicFile'
import type { ByteSource } from './byteSource'
import { diskFullError, ensureRoom, isDiskFull } from './diskSpace'
import { createOrderedFileWriter } from './orderedFileWriter'

/** Received bytes allowed to wait for the disk before reading pauses (memory stays bounded). */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024

export interface DownloadProgress {
  received: number
  total: number
  bytesPerSec: number | null
}

export interface DownloadRequest {
  source: ByteSource
  remotePath: string
  /** sha256 the host's manifest gives; the file is accepted only if the bytes hash to it. */
  expectedSha256: string
  /** Size the listing reported, if known: a different size now means the file changed. */
  expectedSize?: number
  dest: string
  signal?: AbortSignal
  onProgress?: (p: DownloadProgress) => void
  progressIntervalMs?: number
}

export interface DownloadResult {
  path: string
  size: number
  sha256: string
  /** Bytes reused from an earlier partial download. */
  resumedFrom: number
}

/** The bytes arrived but do not hash to the expected sha256. */
export class VerificationError extends RpcError {
  constructor(message: string) {
    super('remote_failed', message)
  }
}

const PartInfo = z.object({ remotePath: z.string(), size: z.number(), mtimeMs: z.number(), sha256: z.string() })
type PartInfo = z.infer<typeof PartInfo>

export function partPaths(dest: string): { part: string; sidecar: string } {
  const part = path.join(path.dirname(dest), `.${path.basename(dest)}.part`)
  return { part, sidecar: `${part}.json` }
}

async function readPartInfo(sidecar: string): Promise<PartInfo | null> {
  try {
    return PartInfo.parse(JSON.parse(await readFile(sidecar, 'utf8')))
  } catch {
    return null
  }
}

async function hashExisting(file: string, bytes: number, hash: Hash): Promise<void> {
  if (bytes === 0) return
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer)
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function removeQuietly(...files: string[]): Promise<void> {
  await Promise.all(files.map((f) => unlink(f).catch(() => {})))
}

function abortError(): Error {
  const error = new Error('The download was cancelled.')
  error.name = 'AbortError'
  return error
}

export async function downloadVerified(req: DownloadRequest): Promise<DownloadResult> {
  const name = path.basename(req.dest)
  const dir = path.dirname(req.dest)
  const { part, sidecar } = partPaths(req.dest)
  if (req.signal?.aborted) throw abortError()
  // Models are private to the user (a shared machine's other users never read them).
  await mkdir(dir, { recursive: true, mode: 0o700 })

  const remote = await req.source.stat(req.remotePath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new RpcError('not_found', `${name} is no longer on the host (trainers keep only their latest models and checkpoints). Refresh the list.`)
    throw new RpcError('unreachable', `Could not read ${name} on the host: ${error.message}. Check the connection and try again.`)
  })
  if (req.expectedSize !== undefined && remote.size !== req.expectedSize) {
    throw new RpcError('conflict', `${name} changed on the host since the list was loaded (now ${remote.size} bytes, listed as ${req.expectedSize}). Refresh the list and download it again.`)
  }
  const wanted: PartInfo = { remotePath: req.remotePath, size: remote.size, mtimeMs: remote.mtimeMs, sha256: req.expectedSha256 }

  // Resume only from a part of this exact remote file; otherwise start over.
  let offset = 0
  const previous = await readPartInfo(sidecar)
  const partSize = await stat(part).then((s) => s.size, () => -1)
  const samePart = previous && previous.remotePath === wanted.remotePath && previous.size === wanted.size && previous.mtimeMs === wanted.mtimeMs && previous.sha256 === wanted.sha256
  if (samePart && partSize >= 0 && partSize <= remote.size) offset = partSize
  try {
    await ensureRoom(dir, name, remote.size - offset)
    await writeFileAtomic(sidecar, JSON.stringify(wanted))
  } catch (error) {
    await removeQuietly(part, sidecar)
    throw isDiskFull(error) ? diskFullError(dir, name, remote.size) : error
  }

  const hash = createHash('sha256')
  await hashExisting(part, offset, hash)
  const handle: FileHandle = await open(part, offset > 0 ? 'r+' : 'w', 0o600)
  let received = offset
  const started = Date.now()
  let lastReport = 0
  const interval = req.progressIntervalMs ?? 250
  const report = (force: boolean) => {
    const now = Date.now()
    if (!req.onProgress || (!force && now - lastReport < interval)) return
    lastReport = now
    const seconds = (now - started) / 1000
    req.onProgress({ received, total: remote.size, bytesPerSec: seconds > 0.2 ? (received - offset) / seconds : null })
  }

  const stream = req.source.readRange(req.remotePath, offset, remote.size)
  const onAbort = () => stream.destroy(abortError())
  req.signal?.addEventListener('abort', onAbort, { once: true })
  const writer = createOrderedFileWriter(handle, offset, hash)
  try {
    report(true)
    for await (const chunk of stream) {
      writer.push(chunk as Buffer)
      received += (chunk as Buffer).length
      if (writer.queuedBytes >= MAX_QUEUED_BYTES) await writer.room(MAX_QUEUED_BYTES / 2)
      report(false)
    }
    await writer.flush()
    if (received !== remote.size) throw new RpcError('remote_failed', `${name} ended after ${received} of ${remote.size} bytes. Try the download again; it resumes where it stopped.`)
    await handle.sync()
    await handle.close()
  } catch (error) {
    // Let a write still in flight finish before the handle closes under it.
    await writer.flush().catch(() => {})
    await handle.close().catch(() => {})
    if (req.signal?.aborted) throw abortError()
    if (isDiskFull(error)) {
      await removeQuietly(part, sidecar)
      throw diskFullError(dir, name, remote.size)
    }
    throw error instanceof RpcError ? error : new RpcError('unreachable', `Downloading ${name} stopped after ${received} of ${remote.size} bytes: ${(error as Error).message}. Try again; it resumes where it stopped.`)
  } finally {
    req.signal?.removeEventListener('abort', onAbort)
  }
  report(true)

  const digest = hash.digest('hex')
  if (digest !== req.expectedSha256) {
    await removeQuietly(part, sidecar)
    throw new VerificationError(
      `${name} failed verification: its bytes hash to ${digest.slice(0, 12)}…, but the host's manifest says ${req.expectedSha256.slice(0, 12)}…. The file on the host is corrupted or was rewritten; any copy you already had is untouched. Refresh the list and try again.`,
    )
  }
  await rename(part, req.dest)
  await fsyncDir(dir)
  await removeQuietly(sidecar)
  return { path: req.dest, size: remote.size, sha256: digest, resumedFrom: offset }
}
