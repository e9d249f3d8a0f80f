/**
 * Files the browser sends in chunks (a dropped or picked .onnx and its probe), kept in a temp
 * folder until validated. Chunks must arrive in order; size is capped; stale uploads expire.
 */
import { appendFile, mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { MAX_VALIDATE_BYTES } from '../../../shared/api/models'
import { RpcError } from '../../../shared/rpc'

const EXPIRE_MS = 10 * 60_000

interface Upload {
  file: string
  name: string
  size: number
  touchedAt: number
}

export interface Uploads {
  append(uploadId: string, name: string, offset: number, bytes: Buffer): Promise<number>
  take(uploadId: string): Upload
  discard(uploadId: string): Promise<void>
  dispose(): Promise<void>
}

export function createUploads(dir: string): Uploads {
  const uploads = new Map<string, Upload>()
  const sweep = async () => {
    const now = Date.now()
    for (const [id, u] of uploads) if (now - u.touchedAt > EXPIRE_MS) await discard(id)
  }
  async function discard(uploadId: string): Promise<void> {
    const u = uploads.get(uploadId)
    uploads.delete(uploadId)
    if (u) await rm(u.file, { force: true })
  }
  return {
    async append(uploadId, name, offset, bytes) {
      await sweep()
      let u = uploads.get(uploadId)
      if (!u) {
        if (offset !== 0) throw new RpcError('invalid_input', 'The upload was interrupted (the app may have restarted). Drop the file again.')
        await mkdir(dir, { recursive: true })
        u = { file: path.join(dir, `${uploadId}.bin`), name: path.basename(name), size: 0, touchedAt: Date.now() }
        await rm(u.file, { force: true })
        uploads.set(uploadId, u)
      }
      if (offset !== u.size) throw new RpcError('invalid_input', `Upload chunks arrived out of order (expected offset ${u.size}, got ${offset}). Drop the file again.`)
      if (u.size + bytes.length > MAX_VALIDATE_BYTES) {
        await discard(uploadId)
        throw new RpcError('invalid_input', `${u.name} is larger than ${MAX_VALIDATE_BYTES / 1024 / 1024} MB, too big to be a Gantry policy model. Choose the .onnx file exported by a run.`)
      }
      await appendFile(u.file, bytes)
      u.size += bytes.length
      u.touchedAt = Date.now()
      return u.size
    },
    take(uploadId) {
      const u = uploads.get(uploadId)
      if (!u) throw new RpcError('not_found', 'That upload is gone (it expired or the app restarted). Drop the file again.')
      return u
    },
    discard,
    async dispose() {
      for (const id of [...uploads.keys()]) await discard(id)
    },
  }
}
