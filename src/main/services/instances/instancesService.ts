/**
 * The instance list: add, edit and remove instances (secrets through InstanceSecrets), and the
 * list as the API shows it, with each instance's connection and setup state. "This computer" is
 * always first. Connecting is the connector's job (ssh/), setting up the setup service's.
 */
import * as instancesApi from '../../../shared/api/instances'
import type { AuthInfo, AuthInput, InstanceSummary, SetupState } from '../../../shared/api/instances'
import type { Notification } from '../../../shared/api/app'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { InstanceConnector } from '../ssh/instanceConnector'
import type { KnownHostsMirror } from '../ssh/knownHostsMirror'
import type { InstanceSecrets } from './instanceSecrets'
import { NOT_CHECKED, type InstanceStore, type StoredInstance } from './store'

const { LOCAL_INSTANCE_ID } = instancesApi

type CrudMethods = Pick<typeof instancesApi.methods, 'instances.list' | 'instances.get' | 'instances.add' | 'instances.update' | 'instances.remove'>

export interface InstancesServiceOptions {
  bus: EventBus
  store: InstanceStore
  /** The store's load(): a sentence for the user when instances.json was unreadable and set aside. */
  loaded: Promise<string | null>
  secrets: InstanceSecrets
  connector: InstanceConnector
  knownHosts: KnownHostsMirror
  log(line: string): void
  /** The OS notification, where the platform has one. */
  notifyOs: ((notification: Notification) => void) | null
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

type ParsedInstanceInput = ReturnType<typeof instancesApi.InstanceInput.parse>

function build(id: string, input: ParsedInstanceInput, previous: StoredInstance | null): StoredInstance {
  const sameHost = previous && previous.host === input.host && previous.port === input.port
  const sameJump = previous?.jump && input.jump && previous.jump.host === input.jump.host && previous.jump.port === input.jump.port
  return {
    id,
    kind: input.kind,
    name: input.name,
    host: input.host,
    port: input.port,
    user: input.user,
    auth: authInfo(input.auth, previous?.auth ?? null),
    jump: input.jump ? { host: input.jump.host, port: input.jump.port, user: input.jump.user, auth: authInfo(input.jump.auth, previous?.jump?.auth ?? null) } : null,
    hourlyPrice: input.hourlyPrice,
    notes: input.notes,
    gantryRoot: input.gantryRoot,
    // A pin belongs to an address: moving the instance elsewhere asks again.
    hostKey: sameHost ? previous.hostKey : null,
    jumpHostKey: sameJump ? previous!.jumpHostKey : null,
    setup: sameHost && previous.gantryRoot === input.gantryRoot ? previous.setup : NOT_CHECKED,
    createdAt: previous?.createdAt ?? Date.now(),
    slurm: input.slurm,
    afterRunCommand: input.afterRunCommand,
  }
}

export function createInstancesService(options: InstancesServiceOptions) {
  const { bus, store, secrets, connector, knownHosts } = options
  let startupNotice: Notification | null = null
  const noticed = new Set<string>()

  const ready = options.loaded.then((notice) => {
    if (!notice) return
    startupNotice = { level: 'error', title: 'Instance list could not be read', body: notice }
    options.log(`[instances] ${notice}`)
    options.notifyOs?.(startupNotice)
  })

  const summaries = (): InstanceSummary[] => [
    localInstanceSummary(store.localSetup()),
    ...store.all().map((i) => ({
      id: i.id,
      name: i.name,
      kind: i.kind,
      address: `${i.user}@${i.host}:${i.port}`,
      hourlyPrice: i.hourlyPrice,
      connection: connector.state(i.id),
      setup: i.setup,
    })),
  ]
  const publish = () => bus.emit('instances.changed', { instances: summaries() })
  const stopStateListener = connector.onStateChange(() => publish())
  const summaryOf = (id: string) => summaries().find((s) => s.id === id)!

  const add = async (input: ParsedInstanceInput, allowInsecure: boolean): Promise<InstanceSummary> => {
    await ready
    let id = slug(input.name)
    for (let n = 2; store.get(id); n++) id = `${slug(input.name)}-${n}`
    await secrets.save(id, 'host', input.auth, allowInsecure)
    if (input.jump) await secrets.save(id, 'jump', input.jump.auth, allowInsecure)
    await store.put(build(id, input, null))
    publish()
    return summaryOf(id)
  }

  const api: DomainImpl<CrudMethods> = {
    'instances.list': async (_input, ctx) => {
      await ready
      const notice = startupNotice
      if (notice && !noticed.has(ctx.connectionId)) {
        noticed.add(ctx.connectionId)
        // After the window's subscriptions are in place.
        setTimeout(() => bus.emit('app.notification', notice), 300)
      }
      return summaries()
    },
    'instances.get': async ({ id }) => {
      await ready
      const i = store.require(id)
      return { id: i.id, kind: i.kind, name: i.name, host: i.host, port: i.port, user: i.user, auth: i.auth, jump: i.jump, hourlyPrice: i.hourlyPrice, notes: i.notes, gantryRoot: i.gantryRoot, hostKey: i.hostKey, jumpHostKey: i.jumpHostKey, slurm: i.slurm, afterRunCommand: i.afterRunCommand }
    },
    'instances.add': async ({ instance, allowInsecureSecretStorage }) => add(instance, allowInsecureSecretStorage),
    'instances.update': async ({ id, instance, allowInsecureSecretStorage }) => {
      await ready
      const previous = store.require(id)
      await secrets.save(id, 'host', instance.auth, allowInsecureSecretStorage)
      if (instance.jump) await secrets.save(id, 'jump', instance.jump.auth, allowInsecureSecretStorage)
      const next = build(id, instance, previous)
      await secrets.dropUnused(id, next.auth, next.jump?.auth ?? null)
      await store.put(next)
      connector.drop(id)
      await knownHosts.write()
      publish()
      return summaryOf(id)
    },
    'instances.remove': async ({ id }) => {
      await ready
      if (id === LOCAL_INSTANCE_ID) throw new RpcError('invalid_input', '"This computer" is built in and cannot be removed.')
      store.require(id)
      connector.drop(id)
      await secrets.dropUnused(id, null, null)
      await store.remove(id)
      await knownHosts.write()
      publish()
      return {}
    },
  }

  return {
    api,
    ready,
    /** The instance list as the API returns it, for other services. */
    summaries,
    /** Re-broadcast the list after a change another service made (a pin cleared). */
    publish,
    /** Adds an instance as instances.add does (the ssh-config import uses it). */
    add,
    /** Records the outcome of a setup run and re-broadcasts the list. */
    async recordSetup(id: string, setup: SetupState) {
      await ready
      if (id === LOCAL_INSTANCE_ID) await store.setLocalSetup(setup)
      else {
        const i = store.get(id)
        if (i) await store.put({ ...i, setup })
      }
      publish()
    },
    dispose() {
      stopStateListener()
    },
  }
}

export type InstancesService = ReturnType<typeof createInstancesService>
