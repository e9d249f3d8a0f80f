/**
 * The rig itself, checked with the real OpenSSH client: sshd accepts the generated key, the
 * fingerprint is the one ssh-keygen prints, restart can change the host key, and the TCP proxy's
 * modes do what they say.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from './sshd'
import { startTcpProxy } from './tcpProxy'

/** Async on purpose: the proxy lives in this process, so a blocking spawn would stall it. */
function ssh(sshd: SshdHandle, port: number, key: string, command: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const knownHosts = path.join(sshd.dir, 'known_hosts')
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${sshd.hostPublicKey}\n`)
  return new Promise((resolve) => {
    execFile(
      'ssh',
      ['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-p', String(port), 'root@127.0.0.1', command],
      { encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe.skipIf(!requireSshd())('test rig', () => {
  let sshd: SshdHandle
  beforeAll(async () => {
    sshd = await startSshd({ keys: [{ name: 'stranger', authorized: false }] })
  })
  afterAll(async () => {
    await sshd?.stop()
  })

  it('serves the real ssh client with the generated key and pins the printed fingerprint', async () => {
    const ok = await ssh(sshd, sshd.port, sshd.clientKeyPath, 'echo hello-$((6*7))')
    expect(ok.stdout.trim()).toBe('hello-42')
    expect(sshd.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
    const denied = await ssh(sshd, sshd.port, sshd.keys.stranger.path, 'true')
    expect(denied.status).toBe(255)
    expect(denied.stderr).toMatch(/Permission denied/)
  })

  it('restarts with a new host key on the same port', async () => {
    const before = sshd.hostKeyFingerprint
    await sshd.restart({ newHostKey: true })
    expect(sshd.hostKeyFingerprint).not.toBe(before)
    expect((await ssh(sshd, sshd.port, sshd.clientKeyPath, 'echo again')).stdout.trim()).toBe('again')
  })

  it('relays through the proxy and breaks connections on demand', async () => {
    const proxy = await startTcpProxy({ targetPort: sshd.port })
    try {
      expect((await ssh(sshd, proxy.port, sshd.clientKeyPath, 'echo via-proxy')).stdout.trim()).toBe('via-proxy')
      proxy.delay(200)
      const t0 = Date.now()
      expect((await ssh(sshd, proxy.port, sshd.clientKeyPath, 'echo slow')).stdout.trim()).toBe('slow')
      expect(Date.now() - t0).toBeGreaterThan(1000) // several round trips, each delayed both ways
      proxy.refuse()
      expect((await ssh(sshd, proxy.port, sshd.clientKeyPath, 'true')).status).toBe(255)
      proxy.pass()

      // blackhole: the socket stays open but the SSH banner never arrives
      proxy.blackhole()
      const banner = await new Promise<string>((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1')
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        setTimeout(() => {
          resolve(got)
          s.destroy()
        }, 700)
      })
      expect(banner).toBe('')
      proxy.pass()

      // reset: an open connection sees ECONNRESET
      const err = await new Promise<string>((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1')
        s.once('data', () => proxy.reset())
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
        s.once('close', () => resolve('closed'))
      })
      expect(err).toBe('ECONNRESET')

      // limitData: exactly n bytes of the banner get through, then a reset
      proxy.limitData(4)
      const limited = await new Promise<string>((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1')
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('error', () => {})
        s.once('close', () => resolve(got))
      })
      expect(limited).toBe('SSH-')
    } finally {
      await proxy.close()
    }
  })
})
