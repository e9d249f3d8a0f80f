/**
 * The SSH layer against a real OpenSSH sshd on 127.0.0.1 (test/rig/sshd.ts): every auth method,
 * host-key trust (unknown → prompt, changed → refused, re-pin), a jump host with both hops
 * verified, HostSession operations, and reconnect after the TCP connection is reset by a proxy.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD_USER, requirePasswordUser, requireSshd, startAgent, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { startTcpProxy } from '../../../../test/rig/tcpProxy'
import type { InstanceInput } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import { createServicesRig, waitFor, type ServicesRig } from '../../../../test/support/servicesRig'

type Rig = ServicesRig

function input(sshd: SshdHandle, over: Partial<InstanceInput> = {}): { instance: InstanceInput; allowInsecureSecretStorage: boolean } {
  return {
    instance: { name: 'gpu-1', host: sshd.host, port: sshd.port, user: sshd.user, auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: path.join(sshd.dir, 'gantry-root'), ...over },
    allowInsecureSecretStorage: false,
  }
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RpcError)
  return error as RpcError
}

describe.skipIf(!requireSshd())('ssh instances', () => {
  let sshd: SshdHandle
  let rig: Rig
  beforeAll(async () => {
    sshd = await startSshd({ keys: [{ name: 'locked', passphrase: 'correct horse' }, { name: 'stranger', authorized: false }] })
  })
  afterAll(async () => {
    await sshd?.stop()
  })
  afterEach(() => rig?.dispose())

  /** A fresh rig that accepts the host's key, one instance added on the test sshd, and a lease on it. */
  async function leaseOnNewInstance(over: Partial<InstanceInput> = {}, options?: Parameters<typeof createServicesRig>[0]) {
    rig = createServicesRig(options)
    rig.answerWith(() => ({ accept: true }))
    const { id } = await rig.api['instances.add'](input(sshd, over))
    return { id, lease: await rig.services.hosts.acquire(id) }
  }

  it('connects with a key after the user trusts the fingerprint, pins it and mirrors it to known_hosts', async () => {
    rig = createServicesRig()
    rig.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : null))
    const added = await rig.api['instances.add'](input(sshd))
    const result = await rig.api['instances.testConnection']({ id: added.id })
    expect(rig.prompts).toHaveLength(1)
    expect(rig.prompts[0]).toMatchObject({ kind: 'host_key', fingerprint: sshd.hostKeyFingerprint, keyType: 'ssh-ed25519', host: `127.0.0.1:${sshd.port}` })
    expect(result.fingerprint).toBe(sshd.hostKeyFingerprint)
    expect(result.system).toMatch(/^Linux /)
    expect(result.home).toBe('/root')
    // The mirror is a real known_hosts file: ssh-keygen finds the pinned key in it.
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', path.join(rig.dataDir, 'known_hosts')], { encoding: 'utf8' })
    expect(found).toContain(sshd.hostPublicKey)
    const saved = JSON.parse(readFileSync(path.join(rig.dataDir, 'instances.json'), 'utf8'))
    expect(saved.instances[0].hostKey.fingerprint).toBe(sshd.hostKeyFingerprint)
    expect(rig.eventsOf('instances.changed').at(-1)!.instances[1].connection.status).toBe('connected')

    // The second connection (after the pool let go) does not ask again.
    rig.services.connector.drop(added.id)
    await rig.api['instances.testConnection']({ id: added.id })
    expect(rig.prompts).toHaveLength(1)
  })

  it('runs argv literally, streams, opens PTYs and reads file ranges', async () => {
    const { lease } = await leaseOnNewInstance()
    try {
      expect(lease.kind).toBe('ssh')
      expect(lease.root).toBe(path.join(sshd.dir, 'gantry-root'))
      const hostile = ['a; rm -rf ~', '$(id)', '`id`', "it's", 'line1\nline2', 'ünï ✓', '']
      const r = await lease.run(['printf', '%s\\0', ...hostile])
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(hostile)
      const piped = await lease.run(['sh', '-c', 'cat; echo err >&2; exit 3'], { stdin: 'piped' })
      expect(piped).toEqual({ code: 3, stdout: 'piped', stderr: 'err\n' })
      // A host that answers with more than any Gantry command writes is cut off, not buffered.
      await expect(lease.run(['head', '-c', '100000000', '/dev/zero'])).rejects.toThrow(/more than 64 MB/)

      const file = path.join(sshd.dir, 'range.bin')
      writeFileSync(file, Buffer.from('0123456789abcdef'))
      expect(await lease.stat(file)).toMatchObject({ size: 16 })
      const chunks: Buffer[] = []
      for await (const c of lease.readRange(file, 4, 10)) chunks.push(c as Buffer)
      expect(Buffer.concat(chunks).toString()).toBe('456789')
      await expect(lease.stat(path.join(sshd.dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })

      const tty = lease.spawn(['sh', '-c', 'test -t 1 && echo tty-yes; stty size'], { pty: { cols: 91, rows: 33 } })
      let ttyOut = ''
      tty.onData((c) => (ttyOut += c.toString()))
      const code = await new Promise<number | null>((resolve) => tty.onExit((c) => resolve(c)))
      expect(code).toBe(0)
      expect(ttyOut).toContain('tty-yes')
      expect(ttyOut).toContain('33 91')

      const shell = lease.shell({ cols: 80, rows: 24 })
      let shellOut = ''
      shell.onData((c) => (shellOut += c.toString()))
      shell.write('echo shell-$((40+2)); exit\n')
      await new Promise<void>((resolve) => shell.onExit(() => resolve()))
      expect(shellOut).toContain('shell-42')
    } finally {
      lease.release()
    }
  })

  it('sends a small packet at once even while an earlier one is unacknowledged (Nagle off)', async () => {
    // Two keystroke-sized writes, then a wait for the host's answer, which it gives only once it has
    // both: with Nagle's algorithm on, the second write waits for the host to acknowledge the first,
    // and the host, having nothing to send, delays that acknowledgement (40 ms on Linux) every time.
    // That stall is what held pipelined downloads back (BENCHMARKS.md, issue #19).
    const { lease } = await leaseOnNewInstance()
    try {
      const echo = lease.spawn(['python3', '-u', '-c', 'import sys\nwhile len(sys.stdin.buffer.read(2)) == 2:\n    sys.stdout.write("x")'])
      let answers = 0
      let wake = () => {}
      echo.onData((chunk) => {
        answers += chunk.length
        wake()
      })
      const answered = (n: number) => new Promise<void>((resolve) => (wake = () => answers >= n && resolve()))
      const roundsMs: number[] = []
      for (let i = 1; i <= 40; i++) {
        const got = answered(i)
        const started = performance.now()
        echo.write('a')
        echo.write('b')
        await got
        roundsMs.push(performance.now() - started)
      }
      echo.kill()
      // Without the stall a round trip on loopback takes well under a millisecond, a few on a busy
      // machine; with it, nearly every round takes 40 ms. The median, so that a machine busy with
      // other tests, which delays some rounds, does not decide it.
      const median = [...roundsMs].sort((a, b) => a - b)[roundsMs.length / 2]
      expect(median, `round trips (ms): ${roundsMs.map((ms) => ms.toFixed(1)).join(' ')}`).toBeLessThan(20)
    } finally {
      lease.release()
    }
  })

  it('refuses a host key the user does not trust, and times out an unanswered prompt', async () => {
    rig = createServicesRig({ promptTimeoutMs: 400 })
    rig.answerWith(() => ({ accept: false }))
    const { id } = await rig.api['instances.add'](input(sshd))
    const refused = await rejection(rig.api['instances.testConnection']({ id }))
    expect(refused.code).toBe('host_key_unknown')
    expect(refused.message).toMatch(/did not trust the host key of gpu-1/)
    expect((await rig.api['instances.get']({ id })).hostKey).toBeNull()

    rig.answerWith(() => null)
    const timedOut = await rejection(rig.api['instances.testConnection']({ id }))
    expect(timedOut.message).toMatch(/Nobody confirmed the host key of gpu-1 in time/)
    expect(rig.eventsOf('instances.promptClosed').length).toBe(2)
  })

  it('reports the cipher the host actually negotiated in the connection details', async () => {
    // Hosts that allow one cipher each: the report must follow the host, so it cannot be a constant.
    for (const [config, expected] of [
      [['Ciphers chacha20-poly1305@openssh.com'], 'chacha20-poly1305@openssh.com'],
      [['Ciphers aes256-ctr', 'MACs hmac-sha2-256-etm@openssh.com'], 'aes256-ctr + hmac-sha2-256-etm@openssh.com'],
    ] as const) {
      const only = await startSshd({ extraConfig: [...config] })
      const local = createServicesRig()
      try {
        local.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : null))
        const { id } = await local.api['instances.add'](input(only))
        expect((await local.api['instances.testConnection']({ id })).cipher).toBe(expected)
      } finally {
        local.dispose()
        await only.stop()
      }
    }
    // The default host: ssh2 picks an AEAD cipher (AES-GCM with AES-NI, else ChaCha20-Poly1305).
    rig = createServicesRig()
    rig.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : null))
    const { id } = await rig.api['instances.add'](input(sshd))
    expect((await rig.api['instances.testConnection']({ id })).cipher).toMatch(/^(aes(128|256)-gcm@openssh\.com|chacha20-poly1305@openssh\.com)$/)
  })

  it('asks for the passphrase of an encrypted key, and keeps a stored one out of every file', async () => {
    rig = createServicesRig()
    const locked = sshd.keys.locked
    rig.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : p.kind === 'passphrase' ? { accept: true, value: rig.prompts.filter((x) => x.kind === 'passphrase').length === 1 ? 'wrong' : locked.passphrase } : null))
    const { id } = await rig.api['instances.add'](input(sshd, { auth: { kind: 'key', keyPath: locked.path } }))
    await rig.api['instances.testConnection']({ id })
    const asked = rig.prompts.filter((p) => p.kind === 'passphrase')
    expect(asked).toHaveLength(2)
    expect(asked[1].message).toMatch(/did not unlock/)

    // Stored through Platform.secrets when the store is safe: no prompt, nothing in the files or events.
    const rig2 = createServicesRig()
    try {
      rig2.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : null))
      const added = await rig2.api['instances.add']({ ...input(sshd, { name: 'gpu-2', auth: { kind: 'key', keyPath: locked.path, passphrase: locked.passphrase } }) })
      await rig2.api['instances.testConnection']({ id: added.id })
      expect(rig2.prompts.filter((p) => p.kind === 'passphrase')).toHaveLength(0)
      expect([...rig2.secrets.values.values()]).toEqual([locked.passphrase])
      expect(readFileSync(path.join(rig2.dataDir, 'instances.json'), 'utf8')).not.toContain(locked.passphrase)
      expect(JSON.stringify(rig2.events)).not.toContain(locked.passphrase)
      expect(JSON.stringify(await rig2.api['instances.get']({ id: added.id }))).not.toContain(locked.passphrase)
    } finally {
      rig2.dispose()
    }

    // An unsafe secret store refuses unless the user agrees.
    const rig3 = createServicesRig({ secretsWarning: 'Secrets would be stored with a fixed key.' })
    try {
      const refused = await rejection(rig3.api['instances.add'](input(sshd, { auth: { kind: 'key', keyPath: locked.path, passphrase: 'x' } })))
      expect(refused.message).toMatch(/cannot keep secrets safely: Secrets would be stored with a fixed key\. Leave the passphrase empty/)
      expect(rig3.secrets.values.size).toBe(0)
      await rig3.api['instances.add']({ ...input(sshd, { auth: { kind: 'key', keyPath: locked.path, passphrase: 'x' } }), allowInsecureSecretStorage: true })
      expect(rig3.secrets.values.size).toBe(1)
    } finally {
      rig3.dispose()
    }
  })

  it('logs in through an ssh-agent', async () => {
    const agent = await startAgent()
    const saved = process.env.SSH_AUTH_SOCK
    try {
      agent.add(sshd.clientKeyPath)
      process.env.SSH_AUTH_SOCK = agent.socketPath
      rig = createServicesRig()
      rig.answerWith(() => ({ accept: true }))
      const { id } = await rig.api['instances.add'](input(sshd, { auth: { kind: 'agent' } }))
      expect((await rig.api['instances.testConnection']({ id })).system).toMatch(/Linux/)
      delete process.env.SSH_AUTH_SOCK
      rig.services.connector.drop(id)
      const noAgent = await rejection(rig.api['instances.testConnection']({ id }))
      expect(noAgent.message).toMatch(/No SSH agent is running/)
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK
      else process.env.SSH_AUTH_SOCK = saved
      agent.stop()
    }
  })

  it.skipIf(!requirePasswordUser())('logs in with a password: asks, keeps a working one for the session only, asks again after a refusal', async () => {
    const pw = await startSshd({ passwordAuthentication: true })
    try {
      rig = createServicesRig()
      const typed = ['not the password', PASSWORD_USER.password]
      rig.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : p.kind === 'password' ? { accept: true, value: typed.shift() } : null))
      const asked = () => rig.prompts.filter((p) => p.kind === 'password').length
      const { id } = await rig.api['instances.add'](input(pw, { user: PASSWORD_USER.name, auth: { kind: 'password' }, gantryRoot: '~/.gantry' }))
      const refused = await rejection(rig.api['instances.testConnection']({ id }))
      expect(refused.code).toBe('auth_failed')
      expect(refused.message).toMatch(/refused the login as gantry-pw: the password was not accepted\. Check the user name and the password, then connect again/)
      // The refused password was not kept: the next attempt asks again, and the right one logs in.
      expect((await rig.api['instances.testConnection']({ id })).home).toBe(`/home/${PASSWORD_USER.name}`)
      expect(asked()).toBe(2)
      // Kept in memory for this session only: a new connection does not ask, no file holds it.
      rig.services.connector.drop(id)
      await rig.api['instances.testConnection']({ id })
      expect(asked()).toBe(2)
      expect(readFileSync(path.join(rig.dataDir, 'instances.json'), 'utf8')).not.toContain(PASSWORD_USER.password)
      expect(JSON.stringify(rig.events)).not.toContain(PASSWORD_USER.password)

      // A saved password that no longer works: the error says where to fix it, and nothing prompts.
      const rig2 = createServicesRig()
      try {
        rig2.answerWith((p) => (p.kind === 'host_key' ? { accept: true } : null))
        const saved = await rig2.api['instances.add'](input(pw, { user: PASSWORD_USER.name, auth: { kind: 'password', password: 'an old password' }, gantryRoot: '~/.gantry' }))
        const stale = await rejection(rig2.api['instances.testConnection']({ id: saved.id }))
        expect(stale.message).toMatch(/the saved password was not accepted\. Enter the current one in the instance settings/)
        expect(rig2.prompts.filter((p) => p.kind === 'password')).toHaveLength(0)
      } finally {
        rig2.dispose()
      }
    } finally {
      await pw.stop()
    }
  })

  it('says clearly when the key is not accepted or nothing listens', async () => {
    rig = createServicesRig()
    rig.answerWith(() => ({ accept: true }))
    const { id } = await rig.api['instances.add'](input(sshd, { auth: { kind: 'key', keyPath: sshd.keys.stranger.path } }))
    const denied = await rejection(rig.api['instances.testConnection']({ id }))
    expect(denied.code).toBe('auth_failed')
    expect(denied.message).toMatch(/refused the login as root: the key .*stranger was not accepted/)
    const states = rig.eventsOf('instances.changed').map((e) => e.instances[1]?.connection.status)
    expect(states).toContain('failed')

    const closed = await rig.api['instances.add'](input(sshd, { name: 'nowhere', port: 1 }))
    const refused = await rejection(rig.api['instances.testConnection']({ id: closed.id }))
    expect(refused.code).toBe('unreachable')
    expect(refused.message).toMatch(/Nothing accepts SSH connections on 127\.0\.0\.1:1/)
  })

  it('refuses a changed host key until the user re-pins it', async () => {
    const other = await startSshd()
    try {
      rig = createServicesRig()
      rig.answerWith(() => ({ accept: true }))
      const { id } = await rig.api['instances.add'](input(other, { name: 'gpu-9' }))
      await rig.api['instances.testConnection']({ id })
      const first = other.hostKeyFingerprint
      rig.services.connector.drop(id)
      await other.restart({ newHostKey: true })
      const changed = await rejection(rig.api['instances.testConnection']({ id }))
      expect(changed.code).toBe('host_key_changed')
      expect(changed.message).toMatch(/^Host key for gpu-9 changed since you trusted it on \d+ \w{3}\. If you recreated the instance, re-pin it in Instance settings\./)
      expect(changed.message).toContain(first)
      expect(changed.message).toContain(other.hostKeyFingerprint)
      expect(rig.prompts).toHaveLength(1) // never asked to accept the new key silently

      await rig.api['instances.repinHostKey']({ id })
      const again = await rig.api['instances.testConnection']({ id })
      expect(again.fingerprint).toBe(other.hostKeyFingerprint)
      expect(rig.prompts).toHaveLength(2)
    } finally {
      await other.stop()
    }
  })

  it('goes through a jump host, verifying both hops', async () => {
    const jump = await startSshd({ allowTcpForwarding: true })
    try {
      rig = createServicesRig()
      rig.answerWith(() => ({ accept: true }))
      // The target is only addressed from the jump host's side (127.0.0.1 there = here).
      const { id } = await rig.api['instances.add'](input(sshd, { jump: { host: jump.host, port: jump.port, user: 'root', auth: { kind: 'key', keyPath: jump.clientKeyPath } } }))
      await rig.api['instances.testConnection']({ id })
      expect(rig.prompts.map((p) => [p.host, p.fingerprint])).toEqual([
        [`127.0.0.1:${jump.port}`, jump.hostKeyFingerprint],
        [`127.0.0.1:${sshd.port}`, sshd.hostKeyFingerprint],
      ])
      expect(rig.prompts[0].message).toMatch(/the jump host of gpu-1/)
      const details = await rig.api['instances.get']({ id })
      expect(details.jumpHostKey?.fingerprint).toBe(jump.hostKeyFingerprint)
      expect(details.hostKey?.fingerprint).toBe(sshd.hostKeyFingerprint)
      // The first hop really was the jump host: it logged our login.
      expect(readFileSync(jump.logPath, 'utf8')).toMatch(/Accepted publickey for root/)
    } finally {
      await jump.stop()
    }
  })

  it('reconnects after the TCP connection is reset, showing "reconnecting" then "connected"', async () => {
    const proxy = await startTcpProxy({ targetPort: sshd.port })
    try {
      const { id, lease } = await leaseOnNewInstance({ host: '127.0.0.1', port: proxy.port })
      try {
        expect((await lease.run(['echo', 'before'])).stdout).toBe('before\n')
        const seen = () => rig.eventsOf('instances.changed').map((e) => e.instances.find((i) => i.id === id)!.connection)
        const before = seen().length
        proxy.reset()
        const reconnecting = await waitFor(() => seen().slice(before).find((c) => c.status === 'reconnecting'), 10_000, 'reconnecting')
        expect(reconnecting.retryInS).toBeGreaterThan(0)
        expect(reconnecting.message).toMatch(/Connection lost .*Reconnecting in \d+ s/)
        await waitFor(() => seen().slice(before).find((c) => c.status === 'connected'), 15_000, 'connected again')
        expect(proxy.accepted).toBe(2)
        // The same lease works on the new connection.
        expect((await lease.run(['echo', 'after'])).stdout).toBe('after\n')
      } finally {
        lease.release()
      }
    } finally {
      await proxy.close()
    }
  })

  it('notices a silent network (blackhole) through keepalives and reconnects once it passes again', async () => {
    const proxy = await startTcpProxy({ targetPort: sshd.port })
    try {
      const { id, lease } = await leaseOnNewInstance({ host: '127.0.0.1', port: proxy.port }, { sshTimings: { keepaliveIntervalMs: 300, keepaliveCountMax: 2, readyTimeoutMs: 1500 } })
      try {
        const seen = () => rig.eventsOf('instances.changed').map((e) => e.instances.find((i) => i.id === id)!.connection.status)
        await lease.run(['true'])
        const before = seen().length
        const t0 = Date.now()
        proxy.blackhole()
        await waitFor(() => seen().slice(before).includes('reconnecting'), 10_000, 'reconnecting')
        const noticedMs = Date.now() - t0
        expect(noticedMs).toBeLessThan(5000)
        proxy.pass()
        await waitFor(() => seen().slice(before).lastIndexOf('connected') > seen().slice(before).indexOf('reconnecting'), 20_000, 'connected again')
        expect((await lease.run(['echo', 'back'])).stdout).toBe('back\n')
        console.log(`blackhole noticed after ${noticedMs} ms`)
      } finally {
        lease.release()
      }
    } finally {
      await proxy.close()
    }
  })
})
