/**
 * The download engine against a real OpenSSH sshd over SFTP, with real network and disk faults:
 * a connection reset mid-transfer (TCP relay), a file rewritten on the host between attempts,
 * a corrupted host file, and a size-limited tmpfs as the destination.
 */
import { createHash, randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, openSync, writeSync, closeSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { startTcpProxy, type TcpProxy } from '../../../../test/rig/tcpProxy'
import { downloadVerified, partPaths } from './downloader'
import { createSftpSource } from '../ssh/sftpSource'
import { connectSftp } from '../../../../test/support/models/sftpClient'
import { requirePrerequisite } from '../../../../test/support/prerequisites'

const MB = 1024 * 1024

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function writeRandomFile(file: string, bytes: number): string {
  const hash = createHash('sha256')
  const fd = openSync(file, 'w')
  for (let done = 0; done < bytes; ) {
    const chunk = randomBytes(Math.min(8 * MB, bytes - done))
    writeSync(fd, chunk)
    hash.update(chunk)
    done += chunk.length
  }
  closeSync(fd)
  return hash.digest('hex')
}

function canMountTmpfs(): boolean {
  return process.getuid?.() === 0 || spawnSync('unshare', ['-rm', 'true']).status === 0
}

describe.skipIf(!requireSshd())('downloadVerified over SFTP (real sshd)', () => {
  let sshd: SshdHandle
  let proxy: TcpProxy
  let work: string
  let bigFile: string
  let bigSha: string

  beforeAll(async () => {
    sshd = await startSshd()
    proxy = await startTcpProxy({ targetPort: sshd.port })
    work = mkdtempSync(path.join(os.tmpdir(), 'gantry-dl-'))
    mkdirSync(path.join(work, 'remote'))
    bigFile = path.join(work, 'remote', 'big.bin')
    bigSha = writeRandomFile(bigFile, 200 * MB)
  }, 120_000)

  afterAll(async () => {
    await proxy?.close()
    await sshd?.stop()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  const connect = (port = sshd.port) => connectSftp({ port, privateKeyPath: sshd.clientKeyPath, hostPublicKey: sshd.hostPublicKey })

  it('resumes a 200 MB download after the connection is reset at ~50% and ends byte-identical', async () => {
    const dest = path.join(work, 'local-resume', 'big.bin')
    const first = await connect(proxy.port)
    let resetAt = 0
    const attempt1 = downloadVerified({
      source: createSftpSource(first.sftp),
      remotePath: bigFile,
      expectedSha256: bigSha,
      expectedSize: 200 * MB,
      dest,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (!resetAt && p.received >= 100 * MB) {
          resetAt = p.received
          proxy.reset()
        }
      },
    })
    await expect(attempt1).rejects.toThrow(/stopped after \d+ of 209715200 bytes.*resumes/)
    first.close()
    expect(existsSync(dest)).toBe(false)
    const partSize = statSync(partPaths(dest).part).size
    expect(partSize).toBeGreaterThanOrEqual(100 * MB - 16 * MB)
    expect(partSize).toBeLessThan(200 * MB)

    const second = await connect(proxy.port)
    const result = await downloadVerified({ source: createSftpSource(second.sftp), remotePath: bigFile, expectedSha256: bigSha, expectedSize: 200 * MB, dest })
    second.close()
    expect(result.resumedFrom).toBe(partSize)
    expect(result.sha256).toBe(bigSha)
    expect(await sha256File(dest)).toBe(bigSha)
    expect(statSync(dest).size).toBe(200 * MB)
    expect(existsSync(partPaths(dest).part) || existsSync(partPaths(dest).sidecar)).toBe(false)
  }, 180_000)

  it('restarts instead of splicing when the host file changed between attempts', async () => {
    const remote = path.join(work, 'remote', 'changing.bin')
    const shaV1 = writeRandomFile(remote, 16 * MB)
    const dest = path.join(work, 'local-changed', 'changing.bin')
    const conn = await connect()
    const controller = new AbortController()
    await expect(
      downloadVerified({
        source: createSftpSource(conn.sftp),
        remotePath: remote,
        expectedSha256: shaV1,
        dest,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => p.received >= 8 * MB && controller.abort(),
      }),
    ).rejects.toThrow(/cancelled/)
    const partSize = statSync(partPaths(dest).part).size
    expect(partSize).toBeGreaterThan(0)

    // Same size, new bytes, new mtime: what a re-export over the same name looks like.
    const shaV2 = writeRandomFile(remote, 16 * MB)
    utimesSync(remote, new Date(), new Date(Date.now() + 5000))
    const result = await downloadVerified({ source: createSftpSource(conn.sftp), remotePath: remote, expectedSha256: shaV2, dest })
    expect(result.resumedFrom).toBe(0)
    expect(await sha256File(dest)).toBe(shaV2)

    // A stale listing (old sha) against the changed file: restart, then refuse the bytes.
    const staleDest = path.join(work, 'local-stale', 'changing.bin')
    const ctl = new AbortController()
    writeRandomFile(remote, 16 * MB) // v3
    utimesSync(remote, new Date(), new Date(Date.now() + 10_000))
    await expect(
      downloadVerified({ source: createSftpSource(conn.sftp), remotePath: remote, expectedSha256: shaV2, dest: staleDest, signal: ctl.signal, progressIntervalMs: 0, onProgress: (p) => p.received >= 4 * MB && ctl.abort() }),
    ).rejects.toThrow(/cancelled/)
    const shaV4 = writeRandomFile(remote, 16 * MB)
    utimesSync(remote, new Date(), new Date(Date.now() + 15_000))
    await expect(downloadVerified({ source: createSftpSource(conn.sftp), remotePath: remote, expectedSha256: shaV2, dest: staleDest })).rejects.toThrow(/failed verification/)
    expect(existsSync(staleDest)).toBe(false)
    expect(shaV4).not.toBe(shaV2)
    conn.close()
  }, 60_000)

  it('refuses a corrupted host file and leaves the verified local copy untouched', async () => {
    const remote = path.join(work, 'remote', 'model.onnx')
    const sha = writeRandomFile(remote, 4 * MB)
    const dest = path.join(work, 'local-corrupt', 'model.onnx')
    const conn = await connect()
    const source = createSftpSource(conn.sftp)
    await downloadVerified({ source, remotePath: remote, expectedSha256: sha, dest })
    const before = readFileSync(dest)

    // Flip one byte on the host: the manifest's sha256 no longer matches.
    const fd = openSync(remote, 'r+')
    writeSync(fd, Buffer.from([before[1234] ^ 0xff]), 0, 1, 1234)
    closeSync(fd)
    await expect(downloadVerified({ source, remotePath: remote, expectedSha256: sha, dest })).rejects.toThrow(/failed verification.*untouched/)
    conn.close()
    expect(readFileSync(dest).equals(before)).toBe(true)
    expect(await sha256File(dest)).toBe(sha)
    expect(readdirSync(path.dirname(dest))).toEqual(['model.onnx'])
  }, 60_000)

  describe('destination disk full (64 MB tmpfs)', () => {
    let mnt: string
    let mounted = false
    beforeAll(() => {
      if (!requirePrerequisite(canMountTmpfs(), 'Root (for mount -t tmpfs)', 'run the tests as root')) return
      mnt = mkdtempSync(path.join(os.tmpdir(), 'gantry-tmpfs-'))
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr}`)
      mounted = true
    })
    afterAll(() => {
      if (mounted) spawnSync('umount', [mnt])
      if (mnt) rmSync(mnt, { recursive: true, force: true })
    })

    it('says there is not enough space before transferring, and leaves nothing behind', async () => {
      if (!mounted) return
      const conn = await connect()
      const dest = path.join(mnt, 'inst', 'run', 'game', 'big.bin')
      await expect(downloadVerified({ source: createSftpSource(conn.sftp), remotePath: bigFile, expectedSha256: bigSha, dest })).rejects.toThrow(
        new RegExp(`Not enough space on ${mnt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/inst/run/game to download big.bin \\(needs 200 MB\\)\\. Free space or choose another backup folder\\.`),
      )
      conn.close()
      expect(readdirSync(path.dirname(dest))).toEqual([])
    })

    it('turns ENOSPC in the middle of a transfer into the same error, with no partial file left', async () => {
      if (!mounted) return
      const remote = path.join(work, 'remote', 'forty.bin')
      const sha = writeRandomFile(remote, 40 * MB)
      const conn = await connect()
      const dest = path.join(mnt, 'fill', 'forty.bin')
      let filled = false
      await expect(
        downloadVerified({
          source: createSftpSource(conn.sftp),
          remotePath: remote,
          expectedSha256: sha,
          dest,
          progressIntervalMs: 0,
          onProgress: (p) => {
            // Another program takes the space while we download.
            if (!filled && p.received > 0) {
              filled = true
              try {
                writeFileSync(path.join(mnt, 'filler.bin'), Buffer.alloc(40 * MB))
              } catch {
                // the tmpfs is full now, which is the point
              }
            }
          },
        }),
      ).rejects.toThrow(/Not enough space on .*forty\.bin \(needs 40 MB\)\. Free space or choose another backup folder\./)
      conn.close()
      expect(filled).toBe(true)
      expect(readdirSync(path.dirname(dest))).toEqual([])
      rmSync(path.join(mnt, 'filler.bin'), { force: true })
    })
  })
})
