/**
 * Turns a stored SSH instance into a live HostSession: reads its address, auth and pinned host
 * keys from the instance store, its secrets from InstanceSecrets, asks the user through the
 * PromptBroker, saves a newly trusted key (and the known_hosts mirror), and keeps the
 * connection in the pool. Built once in createServices and handed to the host registry, so no
 * service reaches SSH through another service.
 */
import type { SFTPWrapper } from 'ssh2'
import type { ConnectionState } from '../../../shared/api/instances'
import type { DownloadConnection, DownloadHop } from '../models/downloadProtocol'
import type { HostSessionLease } from '../host/hostSession'
import type { InstanceSecrets } from '../instances/instanceSecrets'
import type { InstanceStore, StoredInstance } from '../instances/store'
import type { HopRole, HopTarget } from './connect'
import type { KnownHostsMirror } from './knownHostsMirror'
import { createSshPool } from './pool'
import type { PromptBroker } from './prompts'

export interface SshTimings {
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  readyTimeoutMs?: number
}

export interface InstanceConnectorOptions {
  store: InstanceStore
  /** Settles once the instance store has been read from disk. */
  loaded: Promise<unknown>
  secrets: InstanceSecrets
  prompts: PromptBroker
  knownHosts: KnownHostsMirror
  /** Keepalive and handshake limits (defaults: 10 s × 3, 20 s); tests shorten them. */
  timings?: SshTimings
  idleMs?: number
  reconnectBackoffMs?: number[]
}

export interface InstanceConnector {
  /** A session on the instance's connection (connecting first when needed); release it when done. */
  acquire(instanceId: string, signal?: AbortSignal): Promise<HostSessionLease>
  /** SFTP on the instance's live connection (acquire first). */
  sftp(instanceId: string): Promise<SFTPWrapper>
  /** Connect (or reuse) and report what was verified, for "Test connection". */
  probe(instanceId: string, signal?: AbortSignal): Promise<{ fingerprint: string; keyType: string; home: string; cipher: string }>
  state(instanceId: string): ConnectionState
  /** Close and forget an instance's connection (after edit, removal or re-pin). */
  drop(instanceId: string): void
  /**
   * How the download process connects to the instance on its own: the same hops, pins and
   * timings, and the secrets held in memory now (it cannot ask the user; acquire first).
   */
  downloadConnection(instanceId: string): Promise<DownloadConnection>
  /** Called with the instance id whenever a connection changes state; returns an unsubscribe. */
  onStateChange(listener: (instanceId: string) => void): () => void
  closeAll(): void
}

function hop(i: StoredInstance, role: HopRole): HopTarget | null {
  if (role === 'jump') {
    if (!i.jump) return null
    return { role, label: `the jump host of ${i.name}`, host: i.jump.host, port: i.jump.port, user: i.jump.user, auth: i.jump.auth, pin: i.jumpHostKey }
  }
  return { role, label: i.name, host: i.host, port: i.port, user: i.user, auth: i.auth, pin: i.hostKey }
}

export function createInstanceConnector(options: InstanceConnectorOptions): InstanceConnector {
  const { store, secrets, prompts, knownHosts } = options
  const listeners = new Set<(instanceId: string) => void>()
  const pool = createSshPool({
    idleMs: options.idleMs,
    backoffMs: options.reconnectBackoffMs,
    async target(id) {
      await options.loaded
      const i = store.require(id)
      return { host: hop(i, 'host')!, jump: hop(i, 'jump'), gantryRoot: i.gantryRoot }
    },
    deps(id, signal) {
      return {
        instanceId: id,
        prompts,
        signal,
        ...options.timings,
        agentSocket: process.env.SSH_AUTH_SOCK || undefined,
        secret: (role, kind) => secrets.get(id, role, kind),
        rememberSecret: (role, kind, value) => secrets.remember(id, role, kind, value),
        forgetSecret: (role, kind) => secrets.forget(id, role, kind),
        async savePin(role, pin) {
          const i = store.require(id)
          await store.put(role === 'host' ? { ...i, hostKey: pin } : { ...i, jumpHostKey: pin })
          await knownHosts.write()
        },
      }
    },
    remoteHash(id) {
      const i = store.get(id)
      return i?.setup.status === 'ready' ? i.setup.remoteHash : null
    },
    onState(id) {
      for (const listener of listeners) listener(id)
    },
  })

  return {
    async acquire(id, signal) {
      await options.loaded
      store.require(id)
      return pool.acquire(id, signal)
    },
    sftp: (id) => pool.sftp(id),
    probe: (id, signal) => pool.probe(id, signal),
    state: (id) => pool.state(id),
    drop: (id) => pool.drop(id),
    async downloadConnection(id) {
      await options.loaded
      const i = store.require(id)
      const withSecrets = async (target: HopTarget | null): Promise<DownloadHop | null> =>
        target && { ...target, secrets: { passphrase: await secrets.get(id, target.role, 'passphrase'), password: await secrets.get(id, target.role, 'password') } }
      return { host: (await withSecrets(hop(i, 'host')))!, jump: await withSecrets(hop(i, 'jump')), agentSocket: process.env.SSH_AUTH_SOCK || null, ...options.timings }
    },
    onStateChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    closeAll: () => pool.closeAll(),
  }
}
