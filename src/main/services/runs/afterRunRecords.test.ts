import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AfterRunRecord, createAfterRunRecords } from './afterRunRecords'

describe('after-run records (after-run.json)', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
  const tmp = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'gantry-after-run-records-'))
    dirs.push(d)
    return d
  }
  const onDisk = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'after-run.json'), 'utf8')) as { runs: Record<string, { state: string }> }

  it('shows a record only once it is on disk, so nobody acts on a state a crash (or another writer) could still undo', async () => {
    const dir = tmp()
    const records = createAfterRunRecords(dir, () => {})
    await records.put('gpu-1/run-a', AfterRunRecord.parse({ state: 'armed', armedAt: 1 }))
    const writing = records.put('gpu-1/run-a', AfterRunRecord.parse({ state: 'finished', armedAt: 1 }))
    expect((await records.get('gpu-1/run-a'))?.state).toBe('armed') // still being written
    await writing
    expect((await records.get('gpu-1/run-a'))?.state).toBe('finished')
    expect(onDisk(dir).runs['gpu-1/run-a'].state).toBe('finished')
  })

  it('keeps every run when puts for several runs overlap', async () => {
    const dir = tmp()
    const records = createAfterRunRecords(dir, () => {})
    await Promise.all(['a', 'b', 'c'].map((r) => records.put(`gpu-1/${r}`, AfterRunRecord.parse({ state: 'armed', armedAt: 1 }))))
    expect(Object.keys(onDisk(dir).runs).sort()).toEqual(['gpu-1/a', 'gpu-1/b', 'gpu-1/c'])
    expect((await records.keys()).sort()).toEqual(['gpu-1/a', 'gpu-1/b', 'gpu-1/c'])
    expect((await createAfterRunRecords(dir, () => {}).get('gpu-1/b'))?.state).toBe('armed')
  })
})
