/**
 * The instance list and everything done to an instance before training: add/edit/remove (secrets
 * through Platform.secrets), SSH connections (pool, host-key pins, prompts), ~/.ssh/config
 * import/export, the doctor and the one-click setup. "This computer" is always first.
 */
import os from 'node:os'
import path from 'node:path'
import * as instancesApi from '../../../shared/api/instances'
import type { AuthInfo, AuthInput, InstanceSummary, SetupState } from '../../../shared/api/instances'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { HostRegistry } from '../host/hostRegistry'
import type { Platform } from '../platform'
import { runDoctor, runSetup, type BootstrapTarget } from '../setup/bootstrap'
import { hashBundle } from '../setup/remoteBundle'
import type { HopTarget } from '../ssh/connect'
import { writeKnownHosts } from '../ssh/hostKeys'
import { createSshPool, type SshPool } from '../ssh/pool'
import { createPromptBroker, type PromptBroker } from '../ssh/prompts'
import { instanceInputFor, listSshConfigHosts } from './importSshConfig'
import { ALL_SECRET_SLOTS, secretKey, type SecretKind, type SecretRole } from './secretKeys'
import { writeSshConfigEntry } from './sshConfigWriter'
import { createInstanceStore, NOT_CHECKED, type InstanceStore, type StoredInstance } from './store'

const { LOCAL_INSTANCE_ID } = instancesApi

export interface InstancesServiceOptions {
  bus: EventBus
  platform: Platform
  hosts: HostRegistry
  /** ~/.ssh/config by default; tests point it elsewhere. */
  sshConfigFile?: string
  /** Python for setup.sh on SSH hosts (default: its own choice) — env GANTRY_SETUP_PYTHON. */
  setupPython?: string | null
  /** Extra pip arguments for setup.sh — env GANTRY_SETUP_PIP_ARGS. */
  setupPipArgs?: string | null
  /** Python reused for "This computer" — env GANTRY_PYTHON. */
  localPython?: string | null
  promptTimeoutMs?: number
  /** Keepalive and handshake limits (defaults: 10 s × 3, 20 s); tests shorten them. */
  sshTimings?: { keepaliveIntervalMs?: number; keepaliveCountMax?: number; readyTimeoutMs?: number }
  poolIdleMs?: number
  reconnectBackoffMs?: number[]
}

export function localInstanceSummary(setup: SetupState = NOT_CHECKED): InstanceSummary {
  return {
    id: LOCAL_INSTANCE_ID,
    name: 'This computer',
    kind: 'local',
    address: 'this computer',
    hourlyPrice: null,
    connection: { status: 'connected', retryInS: null, message: null, since: Date.now() },
    setup,
  }
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 48)
  return s && s !== LOCAL_INSTANCE_ID ? s : 'instance'
}

function authInfo(input: AuthInput, keep: AuthInfo | null): AuthInfo {
  switch (input.kind) {
    case 'agent':
      return { kind: 'agent' }
    case 'key':
      return { kind: 'key', keyPath: input.keyPath, hasPassphrase: input.passphrase !== undefined || (keep?.kind === 'key' && keep.hasPassphrase && keep.keyPath === input.keyPath) }
    case 'password':
      return { kind: 'password', hasPassword: input.password !== undefined || (keep?.kind === 'password' && keep.hasPassword) }
  }
}

function secretsIn(input: AuthInput): Partial<Record<SecretKind, string>> {
  if (input.kind === 'key' && input.passphrase !== undefined) return { passphrase: input.passphrase }
  if (input.kind === 'password' && input.password !== undefined) return { password: input.password }
  return {}
}

export function createInstancesService(options: InstancesServiceOptions) {
  const { bus, platform, hosts } = options
  const store: InstanceStore = createInstanceStore(platform.dataDir)
  const prompts: PromptBroker = createPromptBroker(bus, options.promptTimeoutMs)
  const knownHostsFile = path.join(platform.dataDir, 'known_hosts')
  /** Secrets typed into a prompt this session: memory only, so reconnects need not ask again. */
  const remembered = new Map<string, string>()
  const settingUp = new Set<string>()
  let startupNotice: string | null = null
  const noticed = new Set<string>()

  const ready = store.load().then((notice) => {
    if (notice) {
      startupNotice = notice
      platform.log(`[instances] ${notice}`)
      if (platform.kind === 'electron') platform.notify('Instance list could not be read', notice)
    }
  })

  const summaries = (): InstanceSummary[] => [
    localInstanceSummary(store.localSetup()),
    ...store.all().map((i) => ({
      id: i.id,
      name: i.name,
      kind: 'ssh' as const,
      address: `${i.user}@${i.host}:${i.port}`,
      hourlyPrice: i.hourlyPrice,
      connection: pool.state(i.id),
      setup: i.setup,
    })),
  ]
  const publish = () => bus.emit('instances.changed', { instances: summaries() })

  const require = (id: string): StoredInstance => {
    const found = store.get(id)
    if (!found) throw new RpcError('not_found', `There is no instance "${id}". It may have been removed; refresh the list.`)
    return found
  }

  const hop = (i: StoredInstance, role: SecretRole): HopTarget | null => {
    if (role === 'jump') {
      if (!i.jump) return null
      return { role, label: `the jump host of ${i.name}`, host: i.jump.host, port: i.jump.port, user: i.jump.user, auth: i.jump.auth, pin: i.jumpHostKey }
    }
    return { role, label: i.name, host: i.host, port: i.port, user: i.user, auth: i.auth, pin: i.hostKey }
  }

  const writeMirror = () =>
    writeKnownHosts(
      knownHostsFile,
      store.all().flatMap((i) => [
        ...(i.hostKey ? [{ host: i.host, port: i.port, pin: i.hostKey }] : []),
        ...(i.jump && i.jumpHostKey ? [{ host: i.jump.host, port: i.jump.port, pin: i.jumpHostKey }] : []),
      ]),
    )

  const pool: SshPool = createSshPool({
    idleMs: options.poolIdleMs,
    backoffMs: options.reconnectBackoffMs,
    async target(id) {
      await ready
      const i = require(id)
      return { host: hop(i, 'host')!, jump: hop(i, 'jump'), remoteRoot: i.remoteRoot }
    },
    deps(id, signal) {
      return {
        instanceId: id,
        prompts,
        signal,
        ...options.sshTimings,
        agentSocket: process.env.SSH_AUTH_SOCK || undefined,
        async secret(role, kind) {
          const key = secretKey(id, role, kind)
          const mem = remembered.get(key)
          if (mem !== undefined) return mem
          const i = store.get(id)
          const auth = role === 'host' ? i?.auth : i?.jump?.auth
          const kept = (auth?.kind === 'key' && kind === 'passphrase' && auth.hasPassphrase) || (auth?.kind === 'password' && kind === 'password' && auth.hasPassword)
          return kept ? platform.secrets.get(key) : null
        },
        rememberSecret(role, kind, value) {
          remembered.set(secretKey(id, role, kind), value)
        },
        forgetSecret(role, kind) {
          remembered.delete(secretKey(id, role, kind))
        },
        async savePin(role, pin) {
          const i = require(id)
          await store.put(role === 'host' ? { ...i, hostKey: pin } : { ...i, jumpHostKey: pin })
          await writeMirror()
        },
      }
    },
    remoteHash(id) {
      const i = store.get(id)
      return i?.setup.status === 'ready' ? i.setup.remoteHash : null
    },
    onState: () => publish(),
  })

  hosts.setSshConnector(async (id) => {
    await ready
    require(id)
    return pool.acquire(id)
  })

  const storeSecrets = async (id: string, role: SecretRole, input: AuthInput, allowInsecure: boolean) => {
    const secrets = secretsIn(input)
    if (Object.keys(secrets).length === 0) return
    const warning = platform.secrets.info().warning
    if (warning && !allowInsecure) {
      throw new RpcError('invalid_input', `This computer cannot keep secrets safely: ${warning} Leave the ${input.kind === 'key' ? 'passphrase' : 'password'} empty to be asked each time you connect, or confirm that Gantry may store it anyway.`)
    }
    for (const [kind, value] of Object.entries(secrets) as Array<[SecretKind, string]>) await platform.secrets.set(secretKey(id, role, kind), value)
  }

  const dropSecrets = async (id: string, keepHost: AuthInfo | null, keepJump: AuthInfo | null) => {
    for (const [role, kind] of ALL_SECRET_SLOTS) {
      const auth = role === 'host' ? keepHost : keepJump
      const keep = (auth?.kind === 'key' && kind === 'passphrase' && auth.hasPassphrase) || (auth?.kind === 'password' && kind === 'password' && auth.hasPassword)
      if (!keep) await platform.secrets.delete(secretKey(id, role, kind))
      if (!keep) remembered.delete(secretKey(id, role, kind))
    }
  }

  const build = (id: string, input: ReturnType<typeof instancesApi.InstanceInput.parse>, previous: StoredInstance | null): StoredInstance => {
    const sameHost = previous && previous.host === input.host && previous.port === input.port
    const sameJump = previous?.jump && input.jump && previous.jump.host === input.jump.host && previous.jump.port === input.jump.port
    return {
      id,
      name: input.name,
      host: input.host,
      port: input.port,
      user: input.user,
      auth: authInfo(input.auth, previous?.auth ?? null),
      jump: input.jump ? { host: input.jump.host, port: input.jump.port, user: input.jump.user, auth: authInfo(input.jump.auth, previous?.jump?.auth ?? null) } : null,
      hourlyPrice: input.hourlyPrice,
      notes: input.notes,
      remoteRoot: input.remoteRoot,
      // A pin belongs to an address: moving the instance elsewhere asks again.
      hostKey: sameHost ? previous.hostKey : null,
      jumpHostKey: sameJump ? previous!.jumpHostKey : null,
      setup: sameHost && previous.remoteRoot === input.remoteRoot ? previous.setup : NOT_CHECKED,
      createdAt: previous?.createdAt ?? Date.now(),
    }
  }

  const add = async (input: ReturnType<typeof instancesApi.InstanceInput.parse>, allowInsecure: boolean): Promise<InstanceSummary> => {
    await ready
    let id = slug(input.name)
    for (let n = 2; store.get(id); n++) id = `${slug(input.name)}-${n}`
    await storeSecrets(id, 'host', input.auth, allowInsecure)
    if (input.jump) await storeSecrets(id, 'jump', input.jump.auth, allowInsecure)
    await store.put(build(id, input, null))
    publish()
    return summaries().find((s) => s.id === id)!
  }

  const setSetup = async (id: string, setup: SetupState) => {
    if (id === LOCAL_INSTANCE_ID) await store.setLocalSetup(setup)
    else {
      const i = store.get(id)
      if (i) await store.put({ ...i, setup })
    }
    publish()
  }

  /** Runs `fn` with a bootstrap target for the instance (local or ssh). */
  const withTarget = async <T>(id: string, fn: (target: BootstrapTarget) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    await ready
    const bundle = await hashBundle(path.join(platform.bundleDir, 'remote'))
    if (id === LOCAL_INSTANCE_ID) return fn({ session: hosts.local, sftp: null, bundle })
    require(id)
    const lease = await pool.acquire(id, signal)
    try {
      return await fn({ session: lease, sftp: () => pool.sftp(id), bundle })
    } finally {
      lease.release()
    }
  }

  const api: DomainImpl<typeof instancesApi.methods> = {
    'instances.list': async (_input, ctx) => {
      await ready
      if (startupNotice && !noticed.has(ctx.connectionId)) {
        noticed.add(ctx.connectionId)
        const body = startupNotice
        // After the window's subscriptions are in place.
        setTimeout(() => bus.emit('app.notification', { level: 'error', title: 'Instance list could not be read', body }), 300)
      }
      return summaries()
    },
    'instances.get': async ({ id }) => {
      await ready
      const i = require(id)
      const pin = (p: StoredInstance['hostKey']) => (p ? { keyType: p.keyType, fingerprint: p.fingerprint, pinnedAt: p.pinnedAt } : null)
      return { id: i.id, name: i.name, host: i.host, port: i.port, user: i.user, auth: i.auth, jump: i.jump, hourlyPrice: i.hourlyPrice, notes: i.notes, remoteRoot: i.remoteRoot, hostKey: pin(i.hostKey), jumpHostKey: pin(i.jumpHostKey) }
    },
    'instances.add': async ({ instance, allowInsecureSecretStorage }) => add(instance, allowInsecureSecretStorage),
    'instances.update': async ({ id, instance, allowInsecureSecretStorage }) => {
      await ready
      const previous = require(id)
      await storeSecrets(id, 'host', instance.auth, allowInsecureSecretStorage)
      if (instance.jump) await storeSecrets(id, 'jump', instance.jump.auth, allowInsecureSecretStorage)
      const next = build(id, instance, previous)
      await dropSecrets(id, next.auth, next.jump?.auth ?? null)
      await store.put(next)
      pool.drop(id)
      await writeMirror()
      publish()
      return summaries().find((s) => s.id === id)!
    },
    'instances.remove': async ({ id }) => {
      await ready
      if (id === LOCAL_INSTANCE_ID) throw new RpcError('invalid_input', '"This computer" is built in and cannot be removed.')
      require(id)
      pool.drop(id)
      await dropSecrets(id, null, null)
      await store.remove(id)
      await writeMirror()
      publish()
      return {}
    },
    'instances.testConnection': async ({ id }, ctx) => {
      await ready
      require(id)
      const started = Date.now()
      const lease = await pool.acquire(id, ctx.signal)
      try {
        const r = await lease.run(['uname', '-srm'], { timeoutMs: 20_000, signal: ctx.signal })
        const i = require(id)
        return { fingerprint: i.hostKey?.fingerprint ?? '', keyType: i.hostKey?.keyType ?? '', system: r.stdout.trim() || r.stderr.trim(), home: (await pool.probe(id)).home, latencyMs: Date.now() - started }
      } finally {
        lease.release()
      }
    },
    'instances.answerPrompt': async ({ promptId, accept, value }) => {
      prompts.answer(promptId, accept, value)
      return {}
    },
    'instances.pendingPrompts': async () => prompts.pending(),
    'instances.repinHostKey': async ({ id }) => {
      await ready
      const i = require(id)
      pool.drop(id)
      await store.put({ ...i, hostKey: null, jumpHostKey: null })
      await writeMirror()
      publish()
      return {}
    },
    'instances.sshConfigHosts': async () => listSshConfigHosts(options.sshConfigFile),
    'instances.importSshConfig': async ({ aliases }) => {
      await ready
      const added: InstanceSummary[] = []
      for (const alias of aliases) {
        let input
        try {
          input = instancesApi.InstanceInput.parse(instanceInputFor(alias, options.sshConfigFile))
        } catch (error) {
          const detail = error instanceof Error && 'issues' in error ? (error as { issues: Array<{ message: string }> }).issues[0]?.message : (error as Error).message
          throw new RpcError('invalid_input', `Could not import "${alias}": ${detail}. Add it by hand with "+ Add instance".`)
        }
        added.push(await add(input, false))
      }
      return added
    },
    'instances.writeSshConfigEntry': async ({ id }) => {
      await ready
      const i = require(id)
      const file = options.sshConfigFile ?? path.join(os.homedir(), '.ssh', 'config')
      const { backupPath } = await writeSshConfigEntry(file, {
        alias: i.id,
        hostName: i.host,
        port: i.port,
        user: i.user,
        identityFile: i.auth.kind === 'key' ? i.auth.keyPath : null,
        proxyJump: i.jump ? `${i.jump.user}@${i.jump.host}:${i.jump.port}` : null,
        knownHostsFile,
      })
      return { path: file, backupPath, alias: i.id }
    },
    'instances.doctor': async ({ id }, ctx) =>
      withTarget(id, (target) => runDoctor(target, id === LOCAL_INSTANCE_ID ? (options.localPython ?? 'python3') : 'python3'), ctx.signal),
    'instances.setup': async ({ id }, ctx) => {
      if (settingUp.has(id)) throw new RpcError('conflict', 'This instance is already being set up; watch the Setup tab for its progress.')
      settingUp.add(id)
      try {
        const result = await withTarget(
          id,
          (target) =>
            runSetup(target, {
              python: id === LOCAL_INSTANCE_ID ? options.localPython : options.setupPython,
              pipArgs: options.setupPipArgs,
              signal: ctx.signal,
              onOutput: (data) => bus.emit('instances.bootstrapOutput', { instanceId: id, data }, id),
              onSteps: (steps, running) => bus.emit('instances.bootstrapSteps', { instanceId: id, steps, running }, id),
            }),
          ctx.signal,
        )
        await setSetup(id, { status: result.ok ? 'ready' : 'failed', remoteHash: result.remoteHash, checkedAt: Date.now(), message: result.ok ? null : result.message })
        return result
      } finally {
        settingUp.delete(id)
      }
    },
  }

  return {
    api,
    pool,
    prompts,
    store,
    ready,
    /** The instance list as the API returns it, for other services. */
    summaries,
    /** Re-broadcast the list after a change any service made. */
    publish,
    dispose() {
      pool.closeAll()
    },
  }
}
