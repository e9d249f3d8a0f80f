/**
 * Opens one authenticated ssh2 connection (optionally through a jump host), verifying every hop's
 * host key against its pin. Unknown keys are asked about, never auto-accepted; a changed key is
 * a hard stop. Errors come out as RpcErrors with sentences a user can act on.
 *
 * ssh2 pitfalls handled here (see also TESTING.md):
 * - without `hostVerifier` ssh2 accepts ANY host key: we always set it and never auto-accept;
 * - one failure can emit 'error' twice (and 'close' after it): settle() keeps only the first;
 * - keepalive is off by default, so a dead peer goes unnoticed: keepaliveInterval 10 s × 3;
 * - `readyTimeout` would also run while the user reads a fingerprint: we time the handshake
 *   ourselves and pause the clock during prompts;
 * - agent forwarding stays off (`agentForward: false`).
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { Client, utils, type ConnectConfig, type NegotiatedAlgorithms } from 'ssh2'
import type { AuthInfo, PinnedHostKey } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import { dayLabel, pinFor } from './hostKeys'
import type { PromptBroker } from './prompts'

export type HopRole = 'host' | 'jump'

export interface HopTarget {
  role: HopRole
  /** How the user knows this machine, e.g. "gpu-1" or "the jump host of gpu-1". */
  label: string
  host: string
  port: number
  user: string
  auth: AuthInfo
  pin: PinnedHostKey | null
}

export interface ConnectDeps {
  instanceId: string
  prompts: PromptBroker
  /** A kept or remembered passphrase/password for this hop, or null. */
  secret(role: HopRole, kind: 'passphrase' | 'password'): Promise<string | null>
  /** Called after the user typed a secret that worked (kept in memory only). */
  rememberSecret(role: HopRole, kind: 'passphrase' | 'password', value: string): void
  /** Drops a remembered secret the host refused (a saved one stays until the user edits it). */
  forgetSecret(role: HopRole, kind: 'passphrase' | 'password'): void
  /** Called when the user trusted a new host key; resolves once the pin is saved. */
  savePin(role: HopRole, pin: PinnedHostKey): Promise<void>
  agentSocket: string | undefined
  signal?: AbortSignal
  readyTimeoutMs?: number
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
}

export interface OpenConnection {
  client: Client
  jump: Client | null
  fingerprint: string
  keyType: string
  /** What protects the traffic to the instance, as negotiated, e.g. "aes128-gcm@openssh.com". */
  cipher: string
  close(): void
}

/** The negotiated server-to-client cipher, with its MAC when the cipher is not an AEAD one. */
function describeCipher(n: NegotiatedAlgorithms): string {
  return n.sc.mac ? `${n.sc.cipher} + ${n.sc.mac}` : n.sc.cipher
}

export function expandLocalHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}

function hopAddress(t: HopTarget): string {
  return `${t.host}:${t.port}`
}

async function loadPrivateKey(target: HopTarget, keyPath: string, deps: ConnectDeps): Promise<{ privateKey: Buffer; passphrase?: string }> {
  const file = expandLocalHome(keyPath)
  let data: Buffer
  try {
    data = await readFile(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new RpcError('auth_failed', `Cannot read the key file ${keyPath} (${code ?? 'error'}). Check the path in the instance settings.`)
  }
  const plain = utils.parseKey(data)
  if (!(plain instanceof Error)) return { privateKey: data }
  if (!/passphrase|encrypted/i.test(plain.message)) {
    throw new RpcError('auth_failed', `${keyPath} is not a private key Gantry can read (${plain.message}). Pick the private key file (not the .pub).`)
  }
  let passphrase = await deps.secret(target.role, 'passphrase')
  for (let attempt = 0; attempt < 3; attempt++) {
    if (passphrase === null) {
      const answer = await deps.prompts.ask(
        {
          kind: 'passphrase',
          instanceId: deps.instanceId,
          host: hopAddress(target),
          message: attempt === 0 ? `Enter the passphrase of ${keyPath} to connect to ${target.label}.` : `That passphrase did not unlock ${keyPath}. Try again.`,
        },
        deps.signal,
      )
      if (!answer.accept || !answer.value) {
        throw new RpcError('auth_failed', answer.timedOut ? `Nobody entered the passphrase of ${keyPath} in time; ${target.label} was not connected. Try again.` : `Connecting to ${target.label} was cancelled: the key ${keyPath} needs its passphrase.`)
      }
      passphrase = answer.value
    }
    const parsed = utils.parseKey(data, passphrase)
    if (!(parsed instanceof Error)) {
      deps.rememberSecret(target.role, 'passphrase', passphrase)
      return { privateKey: data, passphrase }
    }
    passphrase = null
  }
  throw new RpcError('auth_failed', `The passphrase of ${keyPath} was wrong three times. Check it and connect again.`)
}

/** How a hop logs in; for a password, also whether the user just typed it (remembered only once it works). */
interface HopAuth {
  config: Partial<ConnectConfig>
  typedPassword: string | null
}

async function authConfig(target: HopTarget, deps: ConnectDeps): Promise<HopAuth> {
  switch (target.auth.kind) {
    case 'agent':
      if (!deps.agentSocket) {
        throw new RpcError('auth_failed', `No SSH agent is running for Gantry (SSH_AUTH_SOCK is not set), so ${target.label} cannot log in with the agent. Start ssh-agent and ssh-add your key, or choose a key file in the instance settings.`)
      }
      return { config: { agent: deps.agentSocket }, typedPassword: null }
    case 'key':
      return { config: await loadPrivateKey(target, target.auth.keyPath, deps), typedPassword: null }
    case 'password': {
      const known = await deps.secret(target.role, 'password')
      if (known !== null) return { config: { password: known }, typedPassword: null }
      const answer = await deps.prompts.ask({ kind: 'password', instanceId: deps.instanceId, host: hopAddress(target), message: `Enter the password of ${target.user}@${target.host} (${target.label}).` }, deps.signal)
      if (!answer.accept || !answer.value) {
        throw new RpcError('auth_failed', answer.timedOut ? `Nobody entered the password of ${target.user}@${target.host} in time; ${target.label} was not connected. Try again.` : `Connecting to ${target.label} was cancelled: it needs a password.`)
      }
      return { config: { password: answer.value }, typedPassword: answer.value }
    }
  }
}

function refusedLogin(target: HopTarget, typedPassword: string | null): string {
  const refused = `${target.label} (${hopAddress(target)}) refused the login as ${target.user}:`
  switch (target.auth.kind) {
    case 'agent':
      return `${refused} the keys in your SSH agent were not accepted. Check the user name and that the public key is in ~/.ssh/authorized_keys on the host.`
    case 'key':
      return `${refused} the key ${target.auth.keyPath} was not accepted. Check the user name and that the public key is in ~/.ssh/authorized_keys on the host.`
    case 'password':
      return typedPassword !== null || !target.auth.hasPassword
        ? `${refused} the password was not accepted. Check the user name and the password, then connect again (Gantry asks for it again).`
        : `${refused} the saved password was not accepted. Enter the current one in the instance settings (or check the user name).`
  }
}

function describeError(target: HopTarget, error: Error & { level?: string; code?: string }, timeoutS: number, typedPassword: string | null = null): RpcError {
  const where = hopAddress(target)
  if (error.level === 'client-authentication') return new RpcError('auth_failed', refusedLogin(target, typedPassword))
  if (error.level === 'client-timeout' || error.code === 'ETIMEDOUT') {
    return new RpcError('unreachable', `${target.label} (${where}) did not finish the SSH handshake within ${timeoutS} s. Check that the instance is running and the address is right.`)
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return new RpcError('unreachable', `Nothing accepts SSH connections on ${where} (connection refused). Check the host and port, and that the instance is running.`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RpcError('unreachable', `The host name ${target.host} cannot be resolved. Check the spelling or your network/DNS.`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RpcError('unreachable', `${where} is unreachable from this computer (${error.code}). Check your network or VPN.`)
    case 'ECONNRESET':
      return new RpcError('unreachable', `${where} closed the connection during the SSH handshake. Check that it is an SSH server and try again.`)
  }
  return new RpcError('unreachable', `Could not connect to ${target.label} (${where}): ${error.message}. Check the address and try again.`)
}

/** Connects one hop. `sock` carries it through a jump host's forwarded channel. */
export async function connectHop(target: HopTarget, deps: ConnectDeps, sock?: Readable): Promise<{ client: Client; pin: PinnedHostKey; cipher: string }> {
  const { config: auth, typedPassword } = await authConfig(target, deps)
  const client = new Client()
  const readyTimeoutMs = deps.readyTimeoutMs ?? 20_000
  let verdict: RpcError | null = null
  let seenPin: PinnedHostKey | null = null
  let cipher = ''
  client.once('handshake', (negotiated) => (cipher = describeCipher(negotiated)))
  // The user may take a while to read a fingerprint: the ready timer must not run meanwhile.
  let prompting = false

  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    ...auth,
    sock,
    agentForward: false,
    tryKeyboard: false,
    keepaliveInterval: deps.keepaliveIntervalMs ?? 10_000,
    keepaliveCountMax: deps.keepaliveCountMax ?? 3,
    readyTimeout: 2_147_000_000,
    hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
      const pin = pinFor(blob)
      seenPin = pin
      if (target.pin) {
        if (target.pin.fingerprint === pin.fingerprint) return verify(true)
        verdict = new RpcError(
          'host_key_changed',
          `Host key for ${target.label} changed since you trusted it on ${dayLabel(target.pin.pinnedAt)}. If you recreated the instance, re-pin it in Instance settings. (Trusted ${target.pin.fingerprint}, now offered ${pin.fingerprint}.)`,
        )
        return verify(false)
      }
      prompting = true
      void deps.prompts
        .ask(
          {
            kind: 'host_key',
            instanceId: deps.instanceId,
            host: hopAddress(target),
            fingerprint: pin.fingerprint,
            keyType: pin.keyType,
            message: `First connection to ${target.label} (${hopAddress(target)}). Check that its ${pin.keyType} key fingerprint is ${pin.fingerprint} (your provider's console or \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host) before trusting it.`,
          },
          deps.signal,
        )
        .then(async (answer) => {
          prompting = false
          if (!answer.accept) {
            verdict = new RpcError('host_key_unknown', answer.timedOut ? `Nobody confirmed the host key of ${target.label} in time, so Gantry did not connect. Connect again and click Trust if the fingerprint matches.` : `You did not trust the host key of ${target.label}, so Gantry did not connect.`)
            return verify(false)
          }
          await deps.savePin(target.role, pin)
          verify(true)
        })
        .catch((error: unknown) => {
          prompting = false
          verdict = error instanceof RpcError ? error : new RpcError('internal', String(error))
          verify(false)
        })
    },
  }

  await new Promise<void>((resolve, reject) => {
    let settled = false
    const settle = (error: RpcError | null) => {
      if (settled) return
      settled = true
      clearInterval(timer)
      deps.signal?.removeEventListener('abort', onAbort)
      if (error) {
        client.end()
        client.destroy()
        reject(error)
      } else resolve()
    }
    const started = Date.now()
    let waitedPrompting = 0
    let last = started
    const timer = setInterval(() => {
      const now = Date.now()
      if (prompting) waitedPrompting += now - last
      last = now
      if (now - started - waitedPrompting > readyTimeoutMs) {
        settle(describeError(target, Object.assign(new Error('timeout'), { level: 'client-timeout' }), Math.round(readyTimeoutMs / 1000)))
      }
    }, 250)
    const onAbort = () => settle(new RpcError('cancelled', 'The connection attempt was cancelled.'))
    deps.signal?.addEventListener('abort', onAbort, { once: true })
    client.once('ready', () => {
      if (typedPassword !== null) deps.rememberSecret(target.role, 'password', typedPassword)
      settle(null)
    })
    // ssh2 may emit 'error' more than once for one failure; settle() keeps the first.
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (error.level === 'client-authentication' && target.auth.kind === 'password') deps.forgetSecret(target.role, 'password')
      settle(verdict ?? describeError(target, error, Math.round(readyTimeoutMs / 1000), typedPassword))
    })
    client.once('close', () => settle(verdict ?? new RpcError('unreachable', `${target.label} (${hopAddress(target)}) closed the connection before login finished. Try again.`)))
    client.connect(config)
    // Nagle's algorithm off (ssh2 leaves it on): otherwise a small packet (a window adjust, the
    // next SFTP read request) can wait for the host's delayed ACK, up to 40 ms on Linux, and a
    // pipelined download stalls that long again and again (measured: 55 against 230 MB/s on
    // loopback; BENCHMARKS.md, issue #19). A tunnelled hop's channel has no socket option.
    client.setNoDelay(true)
  })
  return { client, pin: seenPin!, cipher }
}

/** Connects to the instance, through its jump host when it has one, each hop verified. */
export async function connectInstance(host: HopTarget, jump: HopTarget | null, deps: ConnectDeps): Promise<OpenConnection> {
  if (!jump) {
    const { client, pin, cipher } = await connectHop(host, deps)
    return { client, jump: null, fingerprint: pin.fingerprint, keyType: pin.keyType, cipher, close: () => client.end() }
  }
  const first = await connectHop(jump, deps)
  try {
    const channel = await new Promise<Readable>((resolve, reject) => {
      first.client.forwardOut('127.0.0.1', 0, host.host, host.port, (error, stream) => {
        if (error) reject(new RpcError('unreachable', `The jump host ${jump.host} could not open a tunnel to ${host.host}:${host.port} (${error.message}). Check that the jump host allows TCP forwarding and can reach the instance.`))
        else resolve(stream)
      })
    })
    const second = await connectHop(host, deps, channel)
    // When the jump connection dies, the tunnelled one is dead too.
    first.client.once('close', () => second.client.end())
    return {
      client: second.client,
      jump: first.client,
      fingerprint: second.pin.fingerprint,
      keyType: second.pin.keyType,
      cipher: second.cipher,
      close: () => {
        second.client.end()
        first.client.end()
      },
    }
  } catch (error) {
    first.client.end()
    throw error
  }
}
