/**
 * runs.thumbnail: the small picture a trainer writes into its game folder every few seconds
 * (remote/PROTOCOL.md, thumbnail.png), read the way model downloads read host files (SFTP on an
 * SSH host or a SLURM login node, whose shared filesystem holds the game folder; the local file
 * on This computer). The host is untrusted: a file over 64 KiB, not a whole PNG, or larger than
 * 512×512 is refused with a sentence and never reaches the renderer.
 */
import { crc32 } from 'node:zlib'
import { THUMBNAIL_MAX_BYTES, THUMBNAIL_MAX_SIDE, type GameThumbnail } from '../../../shared/api/runs'
import { RpcError } from '../../../shared/rpc'
import { hostPath } from '../host/hostPath'
import type { HostSession } from '../host/hostSession'

export const THUMBNAIL_FILE = 'thumbnail.png'
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
// An IEND chunk is always these 12 bytes: length 0, "IEND", its CRC.
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82])

/** Width and height of a whole PNG file, or why it is not one (a phrase for a sentence). */
export function checkPng(data: Buffer): { width: number; height: number } | { problem: string } {
  if (data.length < PNG_SIGNATURE.length + 25 + PNG_END.length || !data.subarray(0, 8).equals(PNG_SIGNATURE)) return { problem: 'is not a PNG picture' }
  // The first chunk must be IHDR: length 13, type, width, height, depth, colour type, ..., CRC.
  if (data.readUInt32BE(8) !== 13 || data.toString('latin1', 12, 16) !== 'IHDR' || (crc32(data.subarray(12, 29)) >>> 0) !== data.readUInt32BE(29)) {
    return { problem: 'is damaged (its PNG header does not check out)' }
  }
  if (!data.subarray(data.length - PNG_END.length).equals(PNG_END)) return { problem: 'is damaged (it does not end where a PNG ends)' }
  const width = data.readUInt32BE(16)
  const height = data.readUInt32BE(20)
  if (width < 1 || height < 1 || width > THUMBNAIL_MAX_SIDE || height > THUMBNAIL_MAX_SIDE) {
    return { problem: `is ${width}×${height} pixels, outside the 1–${THUMBNAIL_MAX_SIDE} pixels a game picture may measure` }
  }
  return { width, height }
}

/** The whole file, or null as soon as more than `limit` bytes arrive (it may have grown since a stat). */
async function readAtMost(session: HostSession, file: string, limit: number): Promise<Buffer | null> {
  const stream = session.readRange(file, 0)
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length
      if (total > limit) return null
      chunks.push(chunk as Buffer)
    }
  } finally {
    stream.destroy()
  }
  return Buffer.concat(chunks)
}

const refused = (what: string, problem: string) =>
  new RpcError('remote_failed', `The game picture ${what} ${problem}, so Gantry does not show it. Gantry's trainer writes a small PNG there every few seconds; if this stays, something else is writing that file on the host.`)

export async function readGameThumbnail(session: HostSession, runId: string, game: string): Promise<GameThumbnail> {
  const file = await hostPath(session, 'runs', runId, 'games', game, THUMBNAIL_FILE)
  const what = `of ${game} (runs/${runId}/games/${game}/${THUMBNAIL_FILE})`
  let stat
  try {
    stat = await session.stat(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none' }
    throw error
  }
  const tooLarge = (size: string) => refused(what, `is ${size}, over the ${THUMBNAIL_MAX_BYTES / 1024} KiB a game picture may be`)
  if (stat.size > THUMBNAIL_MAX_BYTES) throw tooLarge(`${stat.size.toLocaleString('en-US')} bytes`)
  let data: Buffer | null
  try {
    data = await readAtMost(session, file, THUMBNAIL_MAX_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none' }
    throw error
  }
  if (data === null) throw tooLarge('larger than it was a moment before')
  const png = checkPng(data)
  if ('problem' in png) throw refused(what, png.problem)
  return { status: 'ok', png: data.toString('base64'), width: png.width, height: png.height, writtenAt: stat.mtimeMs }
}
