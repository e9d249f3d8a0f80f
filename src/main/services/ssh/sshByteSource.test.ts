/**
 * Ranged reads streamed over an exec channel, against the real sshd: exact byte ranges, hostile
 * file names, a missing file, and a file that shrank (fewer bytes than asked, never padding).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { connectSftp, type SftpConnection } from '../../../../test/support/models/sftpClient'
import { createSshByteSource, readRangeOverExec } from './sshByteSource'

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe.skipIf(!requireSshd())('readRangeOverExec (real sshd)', () => {
  let sshd: SshdHandle
  let conn: SftpConnection
  let dir: string
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256))

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

  it('returns exactly the asked range, to the end when no end is given, for names a shell would mangle', async () => {
    const file = path.join(dir, `-n it's $(id) "q" ünï.bin`)
    writeFileSync(file, bytes)
    expect((await collect(readRangeOverExec(conn.client, file, 0))).equals(bytes)).toBe(true)
    expect((await collect(readRangeOverExec(conn.client, file, 123_457, 250_001))).equals(bytes.subarray(123_457, 250_001))).toBe(true)
    expect((await collect(readRangeOverExec(conn.client, file, 299_999))).equals(bytes.subarray(299_999))).toBe(true)
    expect((await collect(readRangeOverExec(conn.client, file, 10, 10))).length).toBe(0)
    const source = createSshByteSource(conn.client, conn.sftp)
    expect(await source.stat(file)).toMatchObject({ size: bytes.length })
  })

  it('fails with ENOENT for a missing file and gives fewer bytes (never padding) when the file is shorter than asked', async () => {
    await expect(collect(readRangeOverExec(conn.client, path.join(dir, 'missing.bin'), 0))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(createSshByteSource(conn.client, conn.sftp).stat(path.join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' })
    const file = path.join(dir, 'short.bin')
    writeFileSync(file, bytes.subarray(0, 1000))
    expect((await collect(readRangeOverExec(conn.client, file, 500, 5000))).equals(bytes.subarray(500, 1000))).toBe(true)
  })
})
