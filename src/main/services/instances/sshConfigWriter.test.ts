/**
 * "Add to ~/.ssh/config" with awkward values, checked by OpenSSH itself: each value is either
 * refused before anything is written, or `ssh -G` reads the written file back to exactly that
 * value. A value OpenSSH would misread (an unterminated quote breaks the whole file, for every
 * host) must never reach the file.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeSshConfigEntry, type SshConfigEntry } from './sshConfigWriter'

function sshAvailable(): boolean {
  if (spawnSync('ssh', ['-V']).status === 0) return true
  if (process.env.CI === 'true') throw new Error('ssh is missing: apt-get install openssh-client')
  console.warn('[skip] ssh is missing: apt-get install openssh-client')
  return false
}

const base: SshConfigEntry = { alias: 'gpu-1', hostName: '10.0.0.5', port: 2222, user: 'root', identityFile: '/k/id', proxyJump: null, knownHostsFile: null }

/** What OpenSSH resolves for `alias` from `file` (HOME in a temp dir), or its error. */
function sshG(home: string, file: string, alias: string): { ok: true; values: Map<string, string> } | { ok: false; error: string } {
  const r = spawnSync('ssh', ['-G', '-F', file, alias], { encoding: 'utf8', env: { ...process.env, HOME: home } })
  if (r.status !== 0) return { ok: false, error: r.stderr }
  const values = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ')
    if (i > 0 && !values.has(line.slice(0, i))) values.set(line.slice(0, i), line.slice(i + 1))
  }
  return { ok: true, values }
}

describe.skipIf(!sshAvailable())('ssh config writer against OpenSSH', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-sshq-'))
  mkdirSync(path.join(dir, '.ssh'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const keyPaths = [
    '/keys/my key',
    '/keys/my key\\',
    '/keys/back\\slash',
    '/keys/say "hi"',
    "/keys/it's",
    '/keys/hash#tag',
    '/keys/a=b',
    '/keys/tab\tkey',
    '/keys/pct%d',
    '/keys/${HOME}',
    '/keys/new\nline',
  ]
  const users = ['al ice', 'bob\\', 'o"neil', 'root#x']

  const cases: Array<[string, Partial<SshConfigEntry>, string, string]> = [
    ...keyPaths.map((k): [string, Partial<SshConfigEntry>, string, string] => [`IdentityFile ${JSON.stringify(k)}`, { identityFile: k }, 'identityfile', k]),
    ...users.map((u): [string, Partial<SshConfigEntry>, string, string] => [`User ${JSON.stringify(u)}`, { user: u }, 'user', u]),
  ]

  it.each(cases)('%s is refused or read back exactly', async (_name, patch, key, value) => {
    const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}`)
    let refused: Error | null = null
    try {
      await writeSshConfigEntry(file, { ...base, ...patch })
    } catch (error) {
      refused = error as Error
    }
    if (refused) {
      expect(refused.message).toMatch(/cannot be written to an ssh config file/)
      return
    }
    const resolved = sshG(dir, file, 'gpu-1')
    expect(resolved).toMatchObject({ ok: true })
    if (resolved.ok) expect(resolved.values.get(key)).toBe(value)
  })

  it('still writes ordinary values with spaces, quoted', async () => {
    const file = path.join(dir, 'config-plain')
    await writeSshConfigEntry(file, { ...base, identityFile: '/keys/my key', knownHostsFile: '/data dir/known_hosts' })
    const resolved = sshG(dir, file, 'gpu-1')
    expect(resolved.ok && resolved.values.get('identityfile')).toBe('/keys/my key')
    expect(resolved.ok && resolved.values.get('userknownhostsfile')).toMatch(/^\/data dir\/known_hosts \//)
  })
})
