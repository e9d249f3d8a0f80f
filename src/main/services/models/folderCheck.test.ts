// The backup folder a user types is checked before it is saved: it must be a folder Gantry can
// create and write on a real filesystem, and a bad one gets a sentence, quickly (Node's recursive
// mkdir retries ENOENT under /proc forever, which used to hang Save and spin a core).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkBackupFolder } from './folderCheck'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-folder-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('checkBackupFolder', () => {
  it('refuses a folder on a pseudo filesystem within a second instead of hanging', async () => {
    const started = Date.now()
    await expect(checkBackupFolder('/proc/nope')).rejects.toThrow(/\/proc\/nope.*not on a disk.*proc.*Choose a folder/)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('creates a missing nested folder and proves it can write there, leaving nothing behind', async () => {
    const folder = path.join(dir, 'a', 'b', 'models')
    expect(await checkBackupFolder(folder)).toBe(folder)
    expect(existsSync(folder)).toBe(true)
    expect(await import('node:fs/promises').then((fs) => fs.readdir(folder))).toEqual([])
  })

  it('names a file that stands where a folder should be', async () => {
    writeFileSync(path.join(dir, 'plain-file'), 'x')
    await expect(checkBackupFolder(path.join(dir, 'plain-file', 'models'))).rejects.toThrow(/plain-file is a file, not a folder/)
  })

  it('refuses a relative path', async () => {
    await expect(checkBackupFolder('models')).rejects.toThrow(/not a full path/)
  })

  it('gives up with a sentence when the filesystem does not answer in time', async () => {
    const slow = { statfs: () => new Promise<never>(() => {}) }
    await expect(checkBackupFolder(path.join(dir, 'slow'), { timeoutMs: 200, fs: slow })).rejects.toThrow(/did not answer within 0.2 s/)
  })
})
