/**
 * THE SSH test rig: a real Debian OpenSSH server on 127.0.0.1 with a temp config and generated
 * keys, plus an ssh-agent helper. Used by vitest and Playwright specs alike.
 *
 *   import { requireSshd, startSshd } from '../../test/rig/sshd'
 *   describe.skipIf(!requireSshd())('over ssh', () => {
 *     let sshd: SshdHandle
 *     beforeAll(async () => { sshd = await startSshd({ keys: [{ name: 'locked', passphrase: 'pw' }] }) })
 *     afterAll(() => sshd.stop())
 *     // connect to sshd.host:sshd.port as sshd.user with sshd.clientKeyPath;
 *     // trust sshd.hostKeyFingerprint ("SHA256:…", as `ssh-keygen -lf` prints it)
 *   })
 *
 * - Root login with keys only (`PermitRootLogin prohibit-password`, `PasswordAuthentication no`).
 *   Root's HOME is the real /root: tests must point Gantry's remote root at a temp folder.
 * - `restart({ newHostKey: true })` restarts on the same port with a fresh host key (a "changed
 *   host key" test); `restart()` keeps the key.
 * - A jump host is simply a second `startSshd()`; TCP forwarding is on by default.
 * - `stop()` also ends the per-connection sshd processes of this server (by pid, never by name).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const SSHD_BINARY = '/usr/sbin/sshd'

export interface ClientKeyOptions {
  /** File name inside the rig's folder, e.g. "locked". */
  name: string
  /** Encrypts the private key with this passphrase ('' or omitted: unencrypted). */
  passphrase?: string
  /** Whether sshd accepts this key (default true). A false key is a "wrong key". */
  authorized?: boolean
}

export interface SshdOptions {
  /** Extra client keys besides the default unencrypted, authorized `clientKeyPath`. */
  keys?: ClientKeyOptions[]
  /** `AllowTcpForwarding` (needed by a jump host). Default true. */
  allowTcpForwarding?: boolean
  /** `PasswordAuthentication`. Default false (root has no password here anyway; see PASSWORD_USER). */
  passwordAuthentication?: boolean
  /** Extra sshd_config lines appended verbatim. */
  extraConfig?: string[]
}

export interface ClientKey {
  path: string
  publicKey: string
  passphrase: string
  authorized: boolean
}

export interface SshdHandle {
  host: '127.0.0.1'
  port: number
  user: 'root'
  /** Unencrypted ed25519 private key that sshd accepts. */
  clientKeyPath: string
  clientPubKey: string
  /** Extra keys from `options.keys`, by name. */
  keys: Record<string, ClientKey>
  /** "SHA256:…" exactly as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string
  /** "ssh-ed25519 AAAA…" */
  hostPublicKey: string
  /** "[127.0.0.1]:PORT ssh-ed25519 AAAA…" for a known_hosts file. */
  knownHostsLine: string
  dir: string
  authorizedKeysPath: string
  logPath: string
  /** Stops sshd and its session processes; removes the temp folder. Safe to call twice. */
  stop(): Promise<void>
  /** Restarts on the same port; `newHostKey` swaps in a freshly generated host key. */
  restart(options?: { newHostKey?: boolean }): Promise<void>
}

/** Why sshd cannot run here, or null when it can. */
export function sshdUnavailableReason(): string | null {
  for (const bin of [SSHD_BINARY, '/usr/bin/ssh-keygen']) {
    try {
      accessSync(bin, constants.X_OK)
    } catch {
      return `${bin} is missing: apt-get install openssh-server openssh-client`
    }
  }
  return null
}

/**
 * For `describe.skipIf(!requireSshd())`: true when sshd can run. When it cannot, throws under
 * CI=true (a missing prerequisite must fail CI, never skip silently), else prints why and
 * returns false.
 */
export function requireSshd(): boolean {
  const reason = sshdUnavailableReason()
  if (!reason) return true
  if (process.env.CI === 'true') throw new Error(reason)
  console.warn(`[skip] ${reason}`)
  return false
}

/**
 * A throwaway Unix user that logs in with a password, for the password-auth tests. `.ci/run` creates
 * it on CI machines only (a known password is no business on a workstation); elsewhere those tests
 * skip with the command to create it.
 */
export const PASSWORD_USER = { name: 'gantry-pw', password: 'gantry-test-password' } as const

export function requirePasswordUser(): boolean {
  if (spawnSync('id', ['-u', PASSWORD_USER.name]).status === 0) return true
  const reason = `The password-login test user ${PASSWORD_USER.name} does not exist. On a disposable test machine, as root: useradd -m -s /bin/sh ${PASSWORD_USER.name} && echo '${PASSWORD_USER.name}:${PASSWORD_USER.password}' | chpasswd (CI=true bash .ci/run does it).`
  if (process.env.CI === 'true') throw new Error(reason)
  console.warn(`[skip] ${reason}`)
  return false
}

function keygen(file: string, passphrase = '', comment = 'gantry-test'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`)
}

/** "SHA256:…" of a public key file, from ssh-keygen itself (the oracle users compare with). */
export function fingerprintOf(pubKeyFile: string): string {
  const r = spawnSync('ssh-keygen', ['-lf', pubKeyFile], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ssh-keygen -lf failed: ${r.stderr}`)
  return r.stdout.trim().split(/\s+/)[1]
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP on host:port. */
export async function waitForPort(port: number, timeoutMs = 10_000, isDead: () => string | null = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const dead = isDead()
    if (dead) throw new Error(dead)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Direct children of a pid, read from /proc (Linux). */
function childPids(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

function killTree(pid: number): void {
  for (const child of childPids(pid)) killTree(child)
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) if (child.pid) killTree(child.pid)
})

export async function startSshd(options: SshdOptions = {}): Promise<SshdHandle> {
  const unavailable = sshdUnavailableReason()
  if (unavailable) throw new Error(unavailable)
  mkdirSync('/run/sshd', { recursive: true })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-sshd-'))
  const port = await freePort()
  const hostKey = path.join(dir, 'host_ed25519')
  const clientKeyPath = path.join(dir, 'client_ed25519')
  const authorizedKeysPath = path.join(dir, 'authorized_keys')
  const configPath = path.join(dir, 'sshd_config')
  const logPath = path.join(dir, 'sshd.log')

  keygen(hostKey, '', 'gantry-test-host')
  keygen(clientKeyPath)
  const authorized = [readFileSync(`${clientKeyPath}.pub`, 'utf8').trim()]
  const keys: Record<string, ClientKey> = {}
  for (const k of options.keys ?? []) {
    const file = path.join(dir, k.name)
    keygen(file, k.passphrase ?? '', `gantry-test-${k.name}`)
    const publicKey = readFileSync(`${file}.pub`, 'utf8').trim()
    const isAuthorized = k.authorized ?? true
    if (isAuthorized) authorized.push(publicKey)
    keys[k.name] = { path: file, publicKey, passphrase: k.passphrase ?? '', authorized: isAuthorized }
  }
  writeFileSync(authorizedKeysPath, `${authorized.join('\n')}\n`, { mode: 0o600 })
  writeFileSync(
    configPath,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeysPath}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      `PasswordAuthentication ${options.passwordAuthentication ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      `AllowTcpForwarding ${options.allowTcpForwarding === false ? 'no' : 'yes'}`,
      'AllowAgentForwarding no',
      'ClientAliveInterval 5',
      'ClientAliveCountMax 2',
      'MaxStartups 100:30:200',
      'MaxSessions 50',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  )

  let child: ChildProcess | null = null
  const handle: SshdHandle = {
    host: '127.0.0.1',
    port,
    user: 'root',
    clientKeyPath,
    clientPubKey: authorized[0],
    keys,
    hostKeyFingerprint: '',
    hostPublicKey: '',
    knownHostsLine: '',
    dir,
    authorizedKeysPath,
    logPath,
    async stop() {
      await stopChild()
      rmSync(dir, { recursive: true, force: true })
    },
    async restart(restartOptions = {}) {
      await stopChild()
      if (restartOptions.newHostKey) {
        rmSync(hostKey, { force: true })
        rmSync(`${hostKey}.pub`, { force: true })
        keygen(hostKey, '', 'gantry-test-host')
      }
      await launch()
    },
  }

  function readHostKey(): void {
    const pub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/)
    handle.hostPublicKey = `${pub[0]} ${pub[1]}`
    handle.knownHostsLine = `[127.0.0.1]:${port} ${handle.hostPublicKey}`
    handle.hostKeyFingerprint = fingerprintOf(`${hostKey}.pub`)
  }

  async function launch(): Promise<void> {
    readHostKey()
    const log = createWriteStream(logPath, { flags: 'a' })
    const proc = spawn(SSHD_BINARY, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout!.pipe(log)
    proc.stderr!.pipe(log)
    live.add(proc)
    let exited: string | null = null
    proc.once('exit', (code, signal) => {
      live.delete(proc)
      exited = `sshd exited (${code ?? signal}); see ${logPath}`
    })
    child = proc
    try {
      await waitForPort(port, 10_000, () => (exited ? `${exited}:\n${safeRead(logPath)}` : null))
    } catch (error) {
      await stopChild()
      throw error
    }
  }

  async function stopChild(): Promise<void> {
    const proc = child
    child = null
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return
    const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    // Session processes outlive the listener; end them by pid so nothing lingers.
    killTree(proc.pid)
    await done
  }

  await launch()
  return handle
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000)
  } catch {
    return ''
  }
}

export interface AgentHandle {
  /** Value for SSH_AUTH_SOCK. */
  socketPath: string
  /** `ssh-add` a key (passphrase-less keys only; ssh-add would prompt otherwise). */
  add(keyPath: string): void
  stop(): void
}

/** A private ssh-agent for one test: `ssh-agent -D -a <sock>`. */
export async function startAgent(): Promise<AgentHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-agent-'))
  const socketPath = path.join(dir, 'agent.sock')
  const proc = spawn('ssh-agent', ['-D', '-a', socketPath], { stdio: 'ignore' })
  live.add(proc)
  proc.once('exit', () => live.delete(proc))
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      accessSync(socketPath)
      break
    } catch {
      if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket')
      await new Promise((r) => setTimeout(r, 30))
    }
  }
  return {
    socketPath,
    add(keyPath) {
      const r = spawnSync('ssh-add', [keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socketPath }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      if (r.status !== 0) throw new Error(`ssh-add failed: ${r.stderr}`)
    },
    stop() {
      if (proc.pid && proc.exitCode === null) proc.kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
