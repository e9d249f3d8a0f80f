import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { containedPath } from './containedPath'

describe('containedPath', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-contained-'))
  const root = path.join(dir, 'backups')
  const outside = path.join(dir, 'outside')
  mkdirSync(path.join(root, 'local'), { recursive: true })
  mkdirSync(outside)
  symlinkSync(outside, path.join(root, 'local', 'link'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('joins plain names under the root, existing or not', async () => {
    expect(await containedPath(root, 'local', 'run-1', 'pong', 'model.onnx')).toBe(path.join(root, 'local', 'run-1', 'pong', 'model.onnx'))
  })

  it('refuses "..", absolute names, separators that climb out, NUL and empty names', async () => {
    for (const segments of [['..', 'x'], ['local', '../../x/escape'], ['/etc/passwd'], ['a\0b'], [''], ['.']]) {
      await expect(containedPath(root, ...segments), segments.join('|')).rejects.toThrow(/outside/)
    }
  })

  it('refuses a path that leaves the root through a symlink inside it', async () => {
    await expect(containedPath(root, 'local', 'link', 'evil.desktop')).rejects.toThrow(/outside/)
  })

  it('resolves a root that is itself reached through a symlink', async () => {
    const alias = path.join(dir, 'alias')
    symlinkSync(root, alias)
    expect(await containedPath(alias, 'local', 'r')).toBe(path.join(root, 'local', 'r'))
  })
})
