/**
 * The bundle upload against a real sshd: the files travel as one tar stream into the host's
 * `tar -x`, and arrive byte-identical with their modes, including a path too long for ustar's
 * name field, an empty file and binary data; a present bundle is not uploaded again.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { createServicesRig } from '../../../../test/support/servicesRig'
import { BUNDLE_MARKER, hashBundle, uploadBundle } from './remoteBundle'

describe.skipIf(!requireSshd())('uploadBundle over ssh (real sshd)', () => {
  let sshd: SshdHandle
  let local: string
  beforeAll(async () => {
    sshd = await startSshd()
    local = mkdtempSync(path.join(os.tmpdir(), 'gantry-bundle-src-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    if (local) rmSync(local, { recursive: true, force: true })
  })

  it('puts every file on the host byte-identical with its mode, once', { timeout: 60_000 }, async () => {
    const deep = path.join('gantry_remote', 'a-rather-long-folder-name-for-a-package', 'and-another-nested-folder-level')
    mkdirSync(path.join(local, deep), { recursive: true })
    writeFileSync(path.join(local, 'setup.sh'), '#!/bin/sh\necho hi\n')
    chmodSync(path.join(local, 'setup.sh'), 0o755)
    writeFileSync(path.join(local, 'gantry_remote', '__init__.py'), '')
    writeFileSync(path.join(local, deep, 'a_module_name_long_enough_to_push_the_path_past_one_hundred_bytes.py'), 'x = 1\n')
    writeFileSync(path.join(local, 'gantry_remote', 'blob.bin'), randomBytes(1_000_003))
    const bundle = await hashBundle(local)
    expect(bundle.files.some((f) => Buffer.byteLength(f.rel) > 100)).toBe(true)

    const rig = createServicesRig()
    try {
      rig.answerWith(() => ({ accept: true }))
      const root = path.join(sshd.dir, 'gantry-root')
      const { id } = await rig.api['instances.add']({ instance: { name: 'gpu-1', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: root } })
      const lease = await rig.services.connector.acquire(id)
      try {
        const sftp = await rig.services.connector.sftp(id)
        const lines: string[] = []
        expect(await uploadBundle(lease, sftp, bundle, (l) => lines.push(l))).toBe(true)
        const there = path.join(root, 'remote', bundle.hash)
        for (const f of bundle.files) {
          expect(readFileSync(path.join(there, f.rel)).equals(readFileSync(f.abs)), f.rel).toBe(true)
          expect(statSync(path.join(there, f.rel)).mode & 0o777, f.rel).toBe(f.mode)
        }
        expect((await hashBundle(there)).hash).toBe(bundle.hash)
        expect(JSON.parse(readFileSync(path.join(there, BUNDLE_MARKER), 'utf8'))).toMatchObject({ hash: bundle.hash, files: bundle.files.length })
        expect(readdirSync(path.join(root, 'remote'))).toEqual([bundle.hash]) // no temp folder left
        expect(lines.at(-1)).toBe(`Uploaded to ${there}`)
        expect(await uploadBundle(lease, sftp, bundle)).toBe(false)
      } finally {
        lease.release()
      }
    } finally {
      rig.dispose()
    }
  })
})
