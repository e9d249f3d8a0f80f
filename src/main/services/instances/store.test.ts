/**
 * instances.json: round trip, and a corrupt file is set aside (never silently reset) with a
 * notification while the list still shows "This computer".
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'
import { createInstanceStore } from './store'
import { createTestInstances, waitFor } from '../../../../test/support/instances'

describe('instance store', () => {
  it('survives a restart, written with 0600 and a schema version', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-store-'))
    const rig = createTestInstances({ dataDir: dir })
    await rig.api['instances.add']({ instance: { name: 'GPU 1 (A100)', host: 'gpu1.example.com', user: 'ubuntu', auth: { kind: 'agent' }, hourlyPrice: 1.29 } })
    await rig.api['instances.add']({ instance: { name: 'GPU 1 (A100)', host: 'gpu2.example.com', user: 'ubuntu', auth: { kind: 'agent' } } })
    rig.dispose()
    const file = path.join(dir, 'instances.json')
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(1)
    const reopened = createTestInstances({ dataDir: dir })
    const list = await reopened.api['instances.list']({})
    expect(list.map((i) => [i.id, i.address, i.hourlyPrice])).toEqual([
      [LOCAL_INSTANCE_ID, 'this computer', null],
      ['gpu-1-a100', 'ubuntu@gpu1.example.com:22', 1.29],
      ['gpu-1-a100-2', 'ubuntu@gpu2.example.com:22', null],
    ])
    const removed = await reopened.api['instances.remove']({ id: 'gpu-1-a100' })
    expect(removed).toEqual({})
    expect((await reopened.api['instances.list']({})).map((i) => i.id)).toEqual([LOCAL_INSTANCE_ID, 'gpu-1-a100-2'])
    reopened.dispose()
  })

  it('keeps a corrupt file aside and says so', async () => {
    for (const bad of ['{"version": 1, "instances": [ {"id": "x"', JSON.stringify({ version: 7, instances: [] })]) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-store-'))
      writeFileSync(path.join(dir, 'instances.json'), bad)
      const rig = createTestInstances({ dataDir: dir })
      const list = await rig.api['instances.list']({})
      expect(list.map((i) => i.id)).toEqual([LOCAL_INSTANCE_ID])
      const aside = readdirSync(dir).filter((n) => /^instances\.corrupt-.*\.json$/.test(n))
      expect(aside).toHaveLength(1)
      expect(readFileSync(path.join(dir, aside[0]), 'utf8')).toBe(bad)
      const note = await waitFor(() => rig.eventsOf('app.notification')[0], 3000, 'notification')
      expect(note.level).toBe('error')
      expect(note.body).toMatch(new RegExp(`could not be read .*It was kept as .*${aside[0].replace(/\./g, '\\.')}`))
      rig.dispose()
    }
  })

  it('refuses a store file write that would not validate', async () => {
    const store = createInstanceStore(mkdtempSync(path.join(os.tmpdir(), 'gantry-store-')))
    await store.load()
    await expect(store.put({ id: 'bad id!' } as never)).rejects.toThrow()
  })
})
