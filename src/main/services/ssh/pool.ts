/**
 * SSH connections by instance, shared and ref-counted. The first acquire connects (asking the
 * user about new host keys); leases share that connection; after the last release it stays open
 * for `idleMs`, then closes. A connection that drops while leased reconnects with backoff and
 * shows it ("reconnecting in 4 s"), leases keep working once it is back; a changed host key or
 * a refused login stops retrying ("failed: …").
 */
import type { Client, SFTPWrapper } from 'ssh2'
import type { ConnectionState } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import type { HostSession, HostSessionLease } from '../host/hostSession'
import { connectInstance, type ConnectDeps, type HopTarget, type OpenConnection } from './connect'
import { createSshSession } from './sshSession'

export interface PoolTarget {
  host: HopTarget
  jump: HopTarget | null
  /** As entered: "~/.gantry" or an absolute path. */
  gantryRoot: string
}

export interface SshPoolOptions {
  /** Current settings and pins of an instance (re-read before every connect). */
  target(instanceId: string): Promise<PoolTarget>
  deps(instanceId: string, signal?: AbortSignal): ConnectDeps
  remoteHash(instanceId: string): string | null
  onState(instanceId: string, state: ConnectionState): void
  idleMs?: number
  /** Reconnect delays in ms; the last repeats. */
  backoffMs?: number[]
  /** How long an operation waits for a reconnect before failing. */
  waitForReconnectMs?: number
}

export interface SshPool {
  acquire(instanceId: string, signal?: AbortSignal): Promise<HostSessionLease>
  /** Connect (or reuse) and report what was verified, for "Test connection". */
  probe(instanceId: string, signal?: AbortSignal): Promise<{ fingerprint: string; keyType: string; home: string; cipher: string }>
  state(instanceId: string): ConnectionState
  /** SFTP on the instance's live connection (acquire first). */
  sftp(instanceId: string): Promise<SFTPWrapper>
  /** Close and forget an instance's connection (after edit, removal or re-pin). */
  drop(instanceId: string): void
  closeAll(): void
}

interface Entry {
  id: string
  refs: number
  conn: OpenConnection | null
  sftp: Promise<SFTPWrapper> | null
  connecting: Promise<void> | null
  session: HostSession | null
  home: string
  state: ConnectionState
  failure: RpcError | null
  attempt: number
  retryTimer: NodeJS.Timeout | null
  idleTimer: NodeJS.Timeout | null
  waiters: Set<{ resolve(c: Client): void; reject(e: Error): void }>
  closedOnPurpose: boolean
}

const IDLE: ConnectionState = { status: 'idle', retryInS: null, message: null, since: 0 }
const PERMANENT = new Set(['host_key_changed', 'host_key_unknown', 'auth_failed', 'cancelled'])

function readHome(client: Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec('printf "%s" "$HOME"', (error, channel) => {
      if (error) return reject(error)
      let out = ''
      channel.on('data', (d: Buffer) => (out += d.toString('utf8')))
      channel.stderr.resume()
      channel.on('close', () => (out.startsWith('/') ? resolve(out) : reject(new RpcError('remote_failed', 'The host did not report a home folder ($HOME is empty). Set the Gantry folder to an absolute path in the instance settings.'))))
    })
  })
}

export function expandGantryRoot(gantryRoot: string, home: string): string {
  const root = gantryRoot === '~' ? home : gantryRoot.startsWith('~/') ? `${home}/${gantryRoot.slice(2)}` : gantryRoot
  return root.replace(/\/+$/, '') || '/'
}

export function createSshPool(options: SshPoolOptions): SshPool {
  const entries = new Map<string, Entry>()
  const idleMs = options.idleMs ?? 5 * 60_000
  const backoff = options.backoffMs ?? [1000, 2000, 4000, 8000, 15_000, 30_000]
  const waitMs = options.waitForReconnectMs ?? 60_000

  const setState = (entry: Entry, state: Omit<ConnectionState, 'since'>) => {
    entry.state = { ...state, since: Date.now() }
    options.onState(entry.id, entry.state)
  }

  const entryFor = (id: string): Entry => {
    let entry = entries.get(id)
    if (!entry) {
      entry = { id, refs: 0, conn: null, sftp: null, connecting: null, session: null, home: '', state: { ...IDLE, since: Date.now() }, failure: null, attempt: 0, retryTimer: null, idleTimer: null, waiters: new Set(), closedOnPurpose: false }
      entries.set(id, entry)
    }
    return entry
  }

  const flushWaiters = (entry: Entry) => {
    for (const w of entry.waiters) {
      if (entry.conn) w.resolve(entry.conn.client)
      else if (entry.failure) w.reject(entry.failure)
    }
    entry.waiters.clear()
  }

  const connect = (entry: Entry, signal?: AbortSignal): Promise<void> => {
    if (entry.connecting) return entry.connecting
    const reconnecting = entry.state.status === 'reconnecting'
    if (!reconnecting) setState(entry, { status: 'connecting', retryInS: null, message: null })
    entry.connecting = (async () => {
      try {
        const target = await options.target(entry.id)
        const conn = await connectInstance(target.host, target.jump, options.deps(entry.id, signal))
        if (entry.closedOnPurpose) {
          conn.close()
          throw new RpcError('cancelled', 'The connection was closed.')
        }
        if (!entry.home) entry.home = await readHome(conn.client)
        entry.conn = conn
        entry.sftp = null
        entry.failure = null
        entry.attempt = 0
        if (!entry.session) {
          const link = { client: () => liveClient(entry), sftp: () => liveSftp(entry) }
          entry.session = createSshSession(link, { instanceId: entry.id, root: expandGantryRoot(target.gantryRoot, entry.home), home: entry.home, remoteHash: () => options.remoteHash(entry.id) })
        }
        conn.client.on('close', () => onDrop(entry, conn))
        conn.client.on('error', () => {})
        setState(entry, { status: 'connected', retryInS: null, message: null })
        flushWaiters(entry)
      } catch (error) {
        const rpc = error instanceof RpcError ? error : new RpcError('unreachable', error instanceof Error ? error.message : String(error))
        if (reconnecting && !PERMANENT.has(rpc.code) && entry.refs > 0 && !entry.closedOnPurpose) {
          scheduleReconnect(entry, rpc.message)
        } else {
          entry.failure = rpc
          setState(entry, { status: 'failed', retryInS: null, message: rpc.message })
          flushWaiters(entry)
        }
        throw rpc
      } finally {
        entry.connecting = null
      }
    })()
    return entry.connecting
  }

  const scheduleReconnect = (entry: Entry, why: string) => {
    const delay = backoff[Math.min(entry.attempt, backoff.length - 1)]
    entry.attempt++
    setState(entry, { status: 'reconnecting', retryInS: Math.ceil(delay / 1000), message: `Connection lost (${why}). Reconnecting in ${Math.ceil(delay / 1000)} s.` })
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = null
      connect(entry).catch(() => {})
    }, delay)
  }

  const onDrop = (entry: Entry, conn: OpenConnection) => {
    if (entry.conn !== conn) return
    entry.conn = null
    entry.sftp = null
    if (entry.closedOnPurpose) return
    if (entry.refs > 0) {
      entry.state = { ...entry.state, status: 'reconnecting' }
      scheduleReconnect(entry, 'the network or the host closed it')
    } else {
      setState(entry, { status: 'idle', retryInS: null, message: null })
    }
  }

  const liveClient = (entry: Entry): Promise<Client> => {
    if (entry.conn) return Promise.resolve(entry.conn.client)
    if (entry.failure && entry.state.status === 'failed') return Promise.reject(entry.failure)
    if (entry.refs === 0 && !entry.connecting && !entry.retryTimer) return connect(entry).then(() => entry.conn!.client)
    return new Promise<Client>((resolve, reject) => {
      const waiter = {
        resolve: (c: Client) => {
          clearTimeout(timer)
          resolve(c)
        },
        reject: (e: Error) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      const timer = setTimeout(() => {
        entry.waiters.delete(waiter)
        reject(new RpcError('unreachable', `The connection to the host has been down for over ${Math.round(waitMs / 1000)} s. Gantry keeps retrying; check the instance and your network.`))
      }, waitMs)
      entry.waiters.add(waiter)
    })
  }

  const liveSftp = (entry: Entry): Promise<SFTPWrapper> => {
    if (!entry.sftp) {
      const pending = liveClient(entry).then(
        (client) =>
          new Promise<SFTPWrapper>((resolve, reject) =>
            client.sftp((error, sftp) => {
              if (error) return reject(new RpcError('remote_failed', `The host does not offer SFTP (${error.message}). Enable the sftp subsystem in its sshd_config.`))
              sftp.on('close', () => {
                if (entry.sftp === pending) entry.sftp = null
              })
              resolve(sftp)
            }),
          ),
      )
      entry.sftp = pending
      pending.catch(() => {
        if (entry.sftp === pending) entry.sftp = null
      })
    }
    return entry.sftp
  }

  const closeEntry = (entry: Entry) => {
    entry.closedOnPurpose = true
    if (entry.retryTimer) clearTimeout(entry.retryTimer)
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    entry.retryTimer = entry.idleTimer = null
    entry.conn?.close()
    entry.conn = null
    entry.failure = new RpcError('cancelled', 'The connection was closed.')
    flushWaiters(entry)
    entries.delete(entry.id)
  }

  const release = (entry: Entry) => {
    entry.refs = Math.max(0, entry.refs - 1)
    if (entry.refs > 0) return
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    entry.idleTimer = setTimeout(() => {
      if (entry.refs > 0) return
      closeEntry(entry)
      options.onState(entry.id, { ...IDLE, since: Date.now() })
    }, idleMs)
  }

  const acquire = async (instanceId: string, signal?: AbortSignal): Promise<HostSessionLease> => {
    const entry = entryFor(instanceId)
    entry.refs++
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    entry.idleTimer = null
    try {
      if (!entry.conn) {
        if (entry.state.status === 'failed' || entry.state.status === 'idle') entry.failure = null
        if (entry.retryTimer) {
          // A user action while waiting to retry: try now.
          clearTimeout(entry.retryTimer)
          entry.retryTimer = null
        }
        await connect(entry, signal)
      }
    } catch (error) {
      release(entry)
      throw error
    }
    let released = false
    return Object.assign(Object.create(entry.session!) as HostSession, {
      release() {
        if (released) return
        released = true
        release(entry)
      },
    })
  }

  return {
    acquire,
    async probe(instanceId, signal) {
      const lease = await acquire(instanceId, signal)
      try {
        const entry = entries.get(instanceId)!
        const target = await options.target(instanceId)
        return { fingerprint: target.host.pin?.fingerprint ?? '', keyType: target.host.pin?.keyType ?? '', home: entry.home, cipher: entry.conn?.cipher ?? '' }
      } finally {
        lease.release()
      }
    },
    sftp(instanceId) {
      const entry = entries.get(instanceId)
      if (!entry) return Promise.reject(new RpcError('unreachable', 'Not connected to this instance; connect first.'))
      return liveSftp(entry)
    },
    state(instanceId) {
      return entries.get(instanceId)?.state ?? { ...IDLE, since: Date.now() }
    },
    drop(instanceId) {
      const entry = entries.get(instanceId)
      if (entry) closeEntry(entry)
    },
    closeAll() {
      for (const entry of [...entries.values()]) closeEntry(entry)
    },
  }
}
