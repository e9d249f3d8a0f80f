/**
 * "Is there room?" before a download, and the same sentence when the disk fills anyway.
 */
import { statfs } from 'node:fs/promises'
import { RpcError } from '../../../shared/rpc'

const MB = 1024 * 1024

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

export function diskFullError(dir: string, what: string, neededBytes: number): RpcError {
  const mb = Math.max(1, Math.ceil(neededBytes / MB))
  return new RpcError('conflict', `Not enough space on ${dir} to download ${what} (needs ${mb} MB). Free space or choose another backup folder.`)
}

export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** Throws the disk-full error when `dir` has less than `neededBytes` free. */
export async function ensureRoom(dir: string, what: string, neededBytes: number): Promise<void> {
  const free = await freeBytes(dir)
  if (free < neededBytes) throw diskFullError(dir, what, neededBytes)
}
