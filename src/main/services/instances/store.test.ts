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
import { createServicesRig, waitFor } from '../../../../test/support/servicesRig'

describe('instance store', () => {
  it('survives a restart, written with 0600 and a schema version', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-store-'))
    const rig = createServicesRig({ dataDir: dir })
    await rig.api['instances.add']({ instance: { name: 'GPU 1 (A100)', host: 'gpu1.example.com', user: 'ubuntu', auth: { kind: 'agent' }, hourlyPrice: 1.29 } })
    await rig.api['instances.add']({ instance: { name: 'GPU 1 (A100)', host: 'gpu2.example.com', user: 'ubuntu', auth: { kind: 'agent' } } })
    rig.dispose()
    const file = path.join(dir, 'instances.json')
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(1)
    const reopened = createServicesRig({ dataDir: dir })
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
      const rig = createServicesRig({ dataDir: dir })
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

  it('loads a file written before the Gantry folder was called gantryRoot, and saves it with the new name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-store-'))
    const file = path.join(dir, 'instances.json')
    const old = {
      version: 1,
      instances: [
        {
          id: 'gpu-1',
          name: 'gpu-1',
          host: 'gpu1.example.com',
          port: 2222,
          user: 'ubuntu',
          auth: { kind: 'agent' },
          jump: null,
          hourlyPrice: 0.5,
          notes: 'old file',
          remoteRoot: '/data/gantry',
          hostKey: { keyType: 'ssh-ed25519', fingerprint: 'SHA256:abc', publicKey: 'AAAA', pinnedAt: 1 },
          jumpHostKey: null,
          setup: { status: 'ready', remoteHash: 'h1', checkedAt: 2, message: null },
          createdAt: 3,
        },
      ],
      localSetup: { status: 'unknown', remoteHash: null, checkedAt: null, message: null },
    }
    writeFileSync(file, JSON.stringify(old))
    const rig = createServicesRig({ dataDir: dir })
    const details = await rig.api['instances.get']({ id: 'gpu-1' })
    expect(details).toMatchObject({ gantryRoot: '/data/gantry', notes: 'old file', hourlyPrice: 0.5, hostKey: { fingerprint: 'SHA256:abc' } })
    expect((await rig.api['instances.list']({})).find((i) => i.id === 'gpu-1')?.setup.status).toBe('ready')
    expect(readdirSync(dir).filter((n) => n.includes('corrupt'))).toEqual([])
    await rig.api['instances.update']({ id: 'gpu-1', instance: { name: 'gpu-1', host: 'gpu1.example.com', port: 2222, user: 'ubuntu', auth: { kind: 'agent' }, hourlyPrice: 0.5, notes: 'edited', gantryRoot: '/data/gantry' } })
    const saved = JSON.parse(readFileSync(file, 'utf8')).instances[0]
    expect(saved).toMatchObject({ gantryRoot: '/data/gantry', notes: 'edited', setup: { status: 'ready' }, hostKey: { fingerprint: 'SHA256:abc' } })
    expect(saved).not.toHaveProperty('remoteRoot')
    await rig.dispose()
  })

  it('loads a file written before instances had a kind: SLURM settings make a SLURM cluster, nothing else changes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-store-'))
    const file = path.join(dir, 'instances.json')
    const common = { port: 22, user: 'me', auth: { kind: 'key', keyPath: '~/.ssh/id_ed25519', hasPassphrase: true }, jump: null, hourlyPrice: null, notes: 'n', gantryRoot: '/scratch/me/gantry', jumpHostKey: null, createdAt: 3 }
    const hostKey = { keyType: 'ssh-ed25519', fingerprint: 'SHA256:login', publicKey: 'AAAA', pinnedAt: 1 }
    const setup = { status: 'ready', remoteHash: 'h1', checkedAt: 2, message: null }
    const slurm = { partition: 'gpu', account: 'lab', qos: 'normal', timeLimitMin: 240, gres: 'shard:1', cpusPerTask: 4, memMb: 16000, extraSbatch: ['--constraint=a100'] }
    const old = {
      version: 1,
      instances: [
        { id: 'cluster', name: 'cluster', host: 'login.example.edu', hostKey, setup, slurm, ...common },
        { id: 'box', name: 'box', host: 'gpu1.example.com', hostKey: null, setup, slurm: null, ...common },
        { id: 'older', name: 'older', host: 'gpu2.example.com', hostKey: null, setup, ...common }, // from before SLURM settings existed
      ],
      localSetup: { status: 'unknown', remoteHash: null, checkedAt: null, message: null },
    }
    writeFileSync(file, JSON.stringify(old))
    const rig = createServicesRig({ dataDir: dir })
    const list = await rig.api['instances.list']({})
    expect(list.map((i) => [i.id, i.kind, i.setup.status])).toEqual([
      [LOCAL_INSTANCE_ID, 'local', 'unknown'],
      ['cluster', 'slurm', 'ready'],
      ['box', 'ssh', 'ready'],
      ['older', 'ssh', 'ready'],
    ])
    expect(await rig.api['instances.get']({ id: 'cluster' })).toEqual({ id: 'cluster', kind: 'slurm', name: 'cluster', host: 'login.example.edu', port: 22, user: 'me', auth: common.auth, jump: null, hourlyPrice: null, notes: 'n', gantryRoot: '/scratch/me/gantry', hostKey, jumpHostKey: null, slurm, afterRunCommand: '' })
    expect(readdirSync(dir).filter((n) => n.includes('corrupt'))).toEqual([])
    // The next save writes the kind; the SLURM settings are kept as they were.
    await rig.api['instances.remove']({ id: 'older' })
    const saved = JSON.parse(readFileSync(file, 'utf8')).instances
    expect(saved.map((i: { id: string; kind: string }) => [i.id, i.kind])).toEqual([
      ['cluster', 'slurm'],
      ['box', 'ssh'],
    ])
    expect(saved[0]).toEqual({ ...old.instances[0], kind: 'slurm', afterRunCommand: '' })
    await rig.dispose()
  })

  it('keeps the kind and the SLURM settings together: a SLURM cluster has them, an SSH host has none', async () => {
    const rig = createServicesRig({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'gantry-store-')) })
    const base = { name: 'c', host: 'login.example.edu', user: 'me', auth: { kind: 'agent' as const } }
    const added = await rig.api['instances.add']({ instance: { ...base, kind: 'slurm', slurm: { partition: 'gpu', gres: 'shard:1' } } })
    expect(added.kind).toBe('slurm')
    expect((await rig.api['instances.get']({ id: added.id })).slurm).toMatchObject({ partition: 'gpu', gres: 'shard:1', account: '', extraSbatch: [] })
    expect((await rig.api['instances.add']({ instance: base })).kind).toBe('ssh')
    await expect(rig.api['instances.add']({ instance: { ...base, kind: 'slurm' } })).rejects.toThrow(/A SLURM cluster needs its SLURM settings/)
    await expect(rig.api['instances.add']({ instance: { ...base, kind: 'ssh', slurm: { partition: 'gpu' } } })).rejects.toThrow(/Choose the kind "SLURM cluster"/)
    // Turning a cluster into a plain SSH host drops its SLURM settings with the kind.
    await rig.api['instances.update']({ id: added.id, instance: { ...base, kind: 'ssh' } })
    expect(await rig.api['instances.get']({ id: added.id })).toMatchObject({ kind: 'ssh', slurm: null })
    await rig.dispose()
  })

  it('refuses a store file write that would not validate', async () => {
    const store = createInstanceStore(mkdtempSync(path.join(os.tmpdir(), 'gantry-store-')))
    await store.load()
    await expect(store.put({ id: 'bad id!' } as never)).rejects.toThrow()
  })
})
