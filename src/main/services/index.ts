/**
 * The composition root: every service, wired once, typed against the contract. A method the
 * contract declares but no service implements is a compile error here.
 */
import os from 'node:os'
import path from 'node:path'
import type { InstanceSummary } from '../../shared/api/instances'
import type { ApiImpl } from '../../shared/contract'
import { hostHasGantry } from '../../shared/hostReady'
import { createEventBus, type EventBus } from './eventBus'
import { createHostRegistry, type HostRegistry } from './host/hostRegistry'
import { createInstancesService } from './instances/instancesService'
import { createLocalSession } from './local/localSession'
import { createModelsService } from './models/modelsService'
import type { Platform } from './platform'
import { makePrivateFolder } from './privateFolder'
import { createRouter, type Router } from './router'
import { createRunsService } from './runs/runsService'
import { createTerminalsService } from './terminals/terminalsService'

export interface Services {
  api: ApiImpl
  bus: EventBus
  router: Router
  hosts: HostRegistry
  dispose(): Promise<void>
}

/** Timings tests shorten; the app uses the defaults. */
export interface ServicesTuning {
  backupCheckIntervalMs?: number
  backupDebounceMs?: number
}

export function createServices(platform: Platform, tuning: ServicesTuning = {}): Services {
  makePrivateFolder(platform.dataDir)
  const bus = createEventBus()
  const hosts = createHostRegistry(
    createLocalSession({
      root: path.join(platform.dataDir, 'this-computer'),
      remoteCodeDir: path.join(platform.bundleDir, 'remote'),
      python: process.env.GANTRY_PYTHON || 'python3',
    }),
  )
  const instances = createInstancesService({
    bus,
    platform,
    hosts,
    localPython: process.env.GANTRY_PYTHON || null,
    setupPython: process.env.GANTRY_SETUP_PYTHON || null,
    setupPipArgs: process.env.GANTRY_SETUP_PIP_ARGS || null,
  })
  const runs = createRunsService({
    bus,
    hosts,
    bundleDir: platform.bundleDir,
    instanceName: (id) => instances.summaries().find((i) => i.id === id)?.name ?? id,
    notify(notice) {
      bus.emit('app.notification', notice)
      // The web platform's notify() re-emits app.notification; only Electron adds an OS notification.
      if (platform.kind === 'electron') platform.notify(notice.title, notice.body)
    },
    log: platform.log,
  })
  const terminals = createTerminalsService({ bus, hosts, log: platform.log })
  const models = createModelsService({
    platform,
    bus,
    hosts,
    backupCheckIntervalMs: tuning.backupCheckIntervalMs,
    backupDebounceMs: tuning.backupDebounceMs,
    // Scheduled backups visit "This computer" and the SSH instances that are connected now.
    listInstanceIds: async () => {
      await instances.ready
      return instances.summaries().filter((i) => i.kind === 'local' || i.connection.status === 'connected').map((i) => i.id)
    },
  })
  const stopBackupListener = bus.listen('runs.events', ({ instanceId, runId, events }) => models.backups.onRunEvents(instanceId, runId, events))
  // Live runs are followed from start-up and whenever an instance is connected and set up, so notifications and
  // event-triggered backups do not wait for a window to open the run.
  const following = new Set<string>()
  const followConnected = (list: InstanceSummary[]) => {
    for (const instance of list) {
      const askable = hostHasGantry(instance)
      if (askable && !following.has(instance.id)) {
        following.add(instance.id)
        void runs.followLiveRuns(instance.id)
      } else if (!askable) following.delete(instance.id)
    }
  }
  void instances.ready.then(() => followConnected(instances.summaries()))
  const stopFollowListener = bus.listen('instances.changed', ({ instances: list }) => followConnected(list))

  const api: ApiImpl = {
    'app.info': async (_input, ctx) => ({
      name: 'Gantry',
      version: platform.appVersion,
      platform: `${os.platform()} ${os.arch()}`,
      transport: ctx.transport,
      dataDir: platform.dataDir,
      secretStorage: platform.secrets.info(),
    }),
    ...instances.api,
    ...runs.api,
    ...terminals.api,
    ...models.api,
  }

  return {
    api,
    bus,
    router: createRouter(api, platform.log),
    hosts,
    async dispose() {
      instances.dispose()
      runs.dispose()
      terminals.dispose()
      stopBackupListener()
      stopFollowListener()
      await models.dispose()
    },
  }
}
