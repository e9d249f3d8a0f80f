/**
 * Pipelined SFTP ranged reads against the real sshd: many reads in flight still deliver the
 * exact range in file order (small chunks force many requests), to the end of the file when no
 * end is given; a file that is shorter than the range asked fails instead of padding, and a
 * missing file fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { connectSftp, type SftpConnection } from '../../../../test/support/models/sftpClient'
import { createSftpSource } from './sftpSource'

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe.skipIf(!requireSshd())('createSftpSource (real sshd)', () => {
  let sshd: SshdHandle
  let conn: SftpConnection
  let dir: string
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251))

  beforeAll(async () => {
    sshd = await startSshd()
    conn = await connectSftp({ port: sshd.port, privateKeyPath: sshd.clientKeyPath, hostPublicKey: sshd.hostPublicKey })
    dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-range-'))
  })
  afterAll(async () => {
    conn?.close()
    await sshd?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('returns exactly the asked range, in order, with many reads in flight', async () => {
    const file = path.join(dir, `it's "q" ünï.bin`)
    writeFileSync(file, bytes)
    const source = createSftpSource(conn.sftp, { chunkSize: 4096, concurrency: 16 })
    expect((await collect(source.readRange(file, 0))).equals(bytes)).toBe(true)
    expect((await collect(source.readRange(file, 123_457, 250_001))).equals(bytes.subarray(123_457, 250_001))).toBe(true)
    expect((await collect(source.readRange(file, 299_999))).equals(bytes.subarray(299_999))).toBe(true)
    expect(await source.stat(file)).toMatchObject({ size: bytes.length })
  })

  it('fails for a missing file, and for a file shorter than the range instead of padding it', async () => {
    const source = createSftpSource(conn.sftp, { chunkSize: 4096, concurrency: 4 })
    await expect(collect(source.readRange(path.join(dir, 'missing.bin'), 0))).rejects.toThrow()
    const file = path.join(dir, 'short.bin')
    writeFileSync(file, bytes.subarray(0, 1000))
    await expect(collect(source.readRange(file, 500, 5000))).rejects.toThrow(/shrank on the host/)
  })
})
