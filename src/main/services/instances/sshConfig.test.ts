/**
 * The ~/.ssh/config resolver against OpenSSH itself: for each config in the table, `ssh -G` (with
 * HOME pointed at a temp dir) must agree with resolveHost on hostname, user, port, identity files
 * and ProxyJump. Also: the marked-block writer keeps the user's lines and backs the file up.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { expandIdentityFile, parseSshConfig, resolveHost } from './sshConfig'
import { instanceInputFor, listSshConfigHosts } from './importSshConfig'
import { upsertBlock, writeSshConfigEntry } from './sshConfigWriter'
import { requirePrerequisite } from '../../../../test/support/prerequisites'

// Under CI=true a missing ssh fails this file instead of skipping the oracle.
const sshAvailable = (): boolean => requirePrerequisite(spawnSync('ssh', ['-V']).status === 0, 'ssh (the OpenSSH client, the oracle here)', 'apt-get install openssh-client')

const DEFAULT_IDENTITIES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa']

interface Case {
  name: string
  files: Record<string, string>
  aliases: string[]
}

const cases: Case[] = [
  {
    name: 'first value wins, identity files accumulate',
    files: { config: 'Host gpu\n  HostName 10.0.0.5\n  User alice\n  Port 2222\n  IdentityFile ~/.ssh/one\nHost *\n  User bob\n  Port 22\n  IdentityFile ~/.ssh/two\n' },
    aliases: ['gpu', 'other'],
  },
  {
    name: 'patterns, negation and wildcards',
    files: { config: 'Host gpu-* !gpu-bad\n  User trainer\n  HostName %h.lab.example.com\nHost gpu-?\n  Port 2200\nHost *.example.com gpu-bad\n  User web\n' },
    aliases: ['gpu-1', 'gpu-bad', 'gpu-12', 'box.example.com'],
  },
  {
    name: 'Include with globs (relative to ~/.ssh) inside and outside Host blocks',
    files: {
      config: 'Include conf.d/*.conf\nHost a\n  Include extra\n  User fromA\nHost *\n  Port 2022\n',
      'conf.d/10-first.conf': 'Host a b\n  HostName first.example\n',
      'conf.d/20-second.conf': 'Host b\n  HostName second.example\n  User fromB\n',
      extra: 'Port 4444\nIdentityFile ~/.ssh/extra_%r\n',
    },
    aliases: ['a', 'b', 'c'],
  },
  {
    name: 'ProxyJump, none, Match blocks skipped, key=value syntax and quotes',
    files: {
      config: 'Host behind\n  HostName 192.168.1.9\n  ProxyJump ops@bastion.example.com:2201\nHost direct\n  ProxyJump none\n  HostName 10.1.1.1\nHost *\n  ProxyJump default-jump\nMatch user nobody\n  Port 9999\nHost quoted\n  IdentityFile "~/.ssh/with space"\n  User=equals\n',
    },
    aliases: ['behind', 'direct', 'quoted'],
  },
  {
    name: 'tokens in IdentityFile',
    files: { config: 'Host t\n  HostName tok.example\n  User ru\n  Port 2345\n  IdentityFile %d/.ssh/id_%h_%r_%p_%%\n' },
    aliases: ['t'],
  },
]

function sshG(home: string, config: string, alias: string): Record<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', config, alias], { env: { ...process.env, HOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const fields: Record<string, string[]> = {}
  for (const line of out.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line)
    if (m) (fields[m[1].toLowerCase()] ??= []).push(m[2])
  }
  return fields
}

function writeCase(c: Case): { home: string; config: string } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'gantry-sshcfg-'))
  for (const [rel, text] of Object.entries(c.files)) {
    const file = path.join(home, '.ssh', rel)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, text)
  }
  return { home, config: path.join(home, '.ssh', 'config') }
}

describe.skipIf(!sshAvailable())('ssh config import agrees with ssh -G', () => {
  const localUser = os.userInfo().username
  for (const c of cases) {
    it(c.name, () => {
      const { home, config } = writeCase(c)
      const parsed = parseSshConfig(config, { home })
      for (const alias of c.aliases) {
        const oracle = sshG(home, config, alias)
        const mine = resolveHost(parsed, alias)
        expect({ alias, hostname: mine.hostName }).toEqual({ alias, hostname: oracle.hostname[0] })
        expect({ alias, user: mine.user ?? localUser }).toEqual({ alias, user: oracle.user[0] })
        expect({ alias, port: String(mine.port ?? 22) }).toEqual({ alias, port: oracle.port[0] })
        expect({ alias, identities: mine.identityFiles.length ? mine.identityFiles : DEFAULT_IDENTITIES }).toEqual({ alias, identities: oracle.identityfile })
        expect({ alias, proxyjump: mine.proxyJump }).toEqual({ alias, proxyjump: oracle.proxyjump?.[0] ?? null })
      }
    })
  }

  it('notes the skipped Match block and lists concrete aliases only', () => {
    const { home, config } = writeCase(cases[3])
    const listing = listSshConfigHosts(config, home)
    expect(listing.hosts.map((h) => h.alias)).toEqual(['behind', 'direct', 'quoted'])
    expect(listing.notes[0]).toMatch(/Skipped "Match user nobody"/)
  })

  it('expands IdentityFile tokens like ssh does when connecting', () => {
    expect(expandIdentityFile('%d/.ssh/id_%h_%r_%p_%%', { home: '/home/u', localUser: 'u', host: 'tok.example', remoteUser: 'ru', port: 2345 })).toBe('/home/u/.ssh/id_tok.example_ru_2345_%')
    expect(expandIdentityFile('~/.ssh/k_%u', { home: '/home/u', localUser: 'me', host: 'h', remoteUser: 'r', port: 22 })).toBe('/home/u/.ssh/k_me')
  })

  it('turns an alias with a ProxyJump alias into an instance with a jump host', () => {
    const { home, config } = writeCase({
      name: 'jump',
      files: { config: 'Host bastion\n  HostName jump.example.com\n  User ops\n  Port 2201\nHost gpu\n  HostName 10.0.0.7\n  User root\n  ProxyJump bastion\n  IdentityFile ~/.ssh/gpu_key\n', gpu_key: 'not really a key' },
      aliases: [],
    })
    expect(instanceInputFor('gpu', config, home)).toMatchObject({
      name: 'gpu',
      host: '10.0.0.7',
      port: 22,
      user: 'root',
      auth: { kind: 'key', keyPath: path.join(home, '.ssh', 'gpu_key') },
      jump: { host: 'jump.example.com', port: 2201, user: 'ops', auth: { kind: 'agent' } },
    })
  })
})

describe('ssh config writer', () => {
  const entry = { alias: 'gpu-1', hostName: '10.0.0.5', port: 2222, user: 'root', identityFile: '/k/id', proxyJump: null, knownHostsFile: '/data/known_hosts' }

  it('appends a marked block, replaces only its own block, and backs up the previous file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-sshw-'))
    const file = path.join(dir, 'config')
    const mine = '# my settings\nHost work\n  User me\n\nHost *\n  ServerAliveInterval 30\n'
    writeFileSync(file, mine)
    const first = await writeSshConfigEntry(file, entry, new Date('2026-05-03T10:00:00Z'))
    const afterFirst = readFileSync(file, 'utf8')
    expect(afterFirst.startsWith(mine.trimEnd())).toBe(true)
    expect(afterFirst).toContain('# >>> gantry: gpu-1\nHost gpu-1\n  HostName 10.0.0.5\n  Port 2222\n  User root\n  IdentityFile /k/id\n  IdentitiesOnly yes\n  UserKnownHostsFile /data/known_hosts ~/.ssh/known_hosts\n# <<< gantry')
    expect(readFileSync(first.backupPath!, 'utf8')).toBe(mine)

    // Idempotent: the same entry again changes nothing and makes no backup.
    expect((await writeSshConfigEntry(file, entry)).backupPath).toBeNull()
    // An update replaces the block in place.
    await writeSshConfigEntry(file, { ...entry, port: 2200 }, new Date('2026-05-04T10:00:00Z'))
    const updated = readFileSync(file, 'utf8')
    expect(updated.match(/# >>> gantry: gpu-1/g)).toHaveLength(1)
    expect(updated).toContain('  Port 2200\n')
    expect(updated.startsWith(mine.trimEnd())).toBe(true)
    expect(readdirSync(dir).filter((n) => n.startsWith('config.gantry-backup-'))).toHaveLength(2)

    // OpenSSH reads what we wrote.
    if (sshAvailable()) expect(sshG(dir, file, 'gpu-1').port).toEqual(['2200'])
  })

  it('refuses values that would break the file', () => {
    expect(() => upsertBlock('', { ...entry, alias: 'bad alias' })).toThrow(/not a valid Host alias/)
    expect(() => upsertBlock('', { ...entry, hostName: 'a"b' })).toThrow(/cannot be written/)
  })
})
