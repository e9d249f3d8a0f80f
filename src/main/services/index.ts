/**
 * The composition root: every service, wired once, typed against the contract. A method the
 * contract declares but no service implements is a compile error here. Dependencies point one
 * way: the SSH connector is built from the instance store and handed to the host registry;
 * services reach a host only through the registry.
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Notification } from '../../shared/api/app'
import type { InstanceSummary } from '../../shared/api/instances'
import { runKey } from '../../shared/api/runs'
import type { ApiImpl } from '../../shared/contract'
import { hostHasGantry } from '../../shared/hostReady'
import { createEventBus, type EventBus } from './eventBus'
import { createHostRegistry, type HostRegistry } from './host/hostRegistry'
import { createInstanceSecrets } from './instances/instanceSecrets'
import { createInstancesService } from './instances/instancesService'
import { createSshConfigService } from './instances/sshConfigService'
import { createInstanceStore } from './instances/store'
import { createLocalSession } from './local/localSession'
import { createDownloadProcesses } from './models/downloadProcesses'
import { createModelsService } from './models/modelsService'
import type { Platform } from './platform'
import { makePrivateFolder } from './privateFolder'
import { createRouter, type Router } from './router'
import { createAfterRun } from './runs/afterRun'
import { createRunsService } from './runs/runsService'
import { createSetupService } from './setup/setupService'
import { createInstanceConnector, type InstanceConnector, type SshTimings } from './ssh/instanceConnector'
import { createKnownHostsMirror } from './ssh/knownHostsMirror'
import { createPromptBroker } from './ssh/prompts'
import { createSshService } from './ssh/sshService'
import { createTerminalsService } from './terminals/terminalsService'

/** Knobs the app reads from the environment (or leaves at their defaults); tests set them directly. */
export interface ServicesOptions {
  /** Python for "This computer" and its setup — env GANTRY_PYTHON. */
  localPython?: string | null
  /** Python for setup.sh on SSH hosts (default: its own choice) — env GANTRY_SETUP_PYTHON. */
  setupPython?: string | null
  /** Extra pip arguments for setup.sh — env GANTRY_SETUP_PIP_ARGS. */
  setupPipArgs?: string | null
  /** ~/.ssh/config by default. */
  sshConfigFile?: string
  /** How long a host-key or passphrase question waits for an answer (default 2 min). */
  promptTimeoutMs?: number
  sshTimings?: SshTimings
  /** How long an unused SSH connection stays open (default 5 min). */
  poolIdleMs?: number
  reconnectBackoffMs?: number[]
  /** How often the backup schedule is checked, and the quiet time before an event-triggered backup. */
  backupCheckIntervalMs?: number
  backupDebounceMs?: number
  /** How often runs waiting for their after-run command are checked again (default 5 min). */
  afterRunCheckIntervalMs?: number
  /**
   * The built download process (downloadChild.js beside this bundle, found by default); null runs
   * downloads from SSH instances in this process (unit tests, which run the sources, not a bundle).
   */
  downloadChild?: string | null
}

export function servicesOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ServicesOptions {
  return { localPython: env.GANTRY_PYTHON || null, setupPython: env.GANTRY_SETUP_PYTHON || null, setupPipArgs: env.GANTRY_SETUP_PIP_ARGS || null }
}

export interface Services {
  api: ApiImpl
  bus: EventBus
  router: Router
  hosts: HostRegistry
  /** SSH connections by instance (tests drop one to force a fresh connect). */
  connector: InstanceConnector
  dispose(): Promise<void>
}

export function createServices(platform: Platform, given: ServicesOptions = {}): Services {
  const options = { ...servicesOptionsFromEnv(), ...given }
  makePrivateFolder(platform.dataDir)
  const bus = createEventBus()
  /** Every window shows it; the OS shows it too where there is one. */
  const notify = (notification: Notification) => {
    bus.emit('app.notification', notification)
    platform.notify?.(notification)
  }

  const store = createInstanceStore(platform.dataDir)
  const loaded = store.load()
  const secrets = createInstanceSecrets(platform.secrets, store)
  const prompts = createPromptBroker(bus, options.promptTimeoutMs)
  const knownHosts = createKnownHostsMirror(platform.dataDir, store)
  const connector = createInstanceConnector({ store, loaded, secrets, prompts, knownHosts, timings: options.sshTimings, idleMs: options.poolIdleMs, reconnectBackoffMs: options.reconnectBackoffMs })
  const hosts = createHostRegistry(
    createLocalSession({
      root: path.join(platform.dataDir, 'this-computer'),
      remoteCodeDir: path.join(platform.bundleDir, 'remote'),
      python: options.localPython || 'python3',
    }),
    connector,
  )

  const instances = createInstancesService({ bus, store, loaded, secrets, connector, knownHosts, log: platform.log, notifyOs: platform.notify })
  const sshConfig = createSshConfigService({ instances, store, knownHosts, sshConfigFile: options.sshConfigFile })
  const ssh = createSshService({ instances, store, connector, prompts, knownHosts })
  const setup = createSetupService({
    bus,
    hosts,
    sftp: (id) => connector.sftp(id),
    bundleDir: platform.bundleDir,
    recordSetup: instances.recordSetup,
    localPython: options.localPython,
    setupPython: options.setupPython,
    setupPipArgs: options.setupPipArgs,
    instanceSlurm: (id) => store.get(id)?.slurm ?? null,
  })
  const downloadChild = options.downloadChild !== undefined ? options.downloadChild : path.join(__dirname, 'downloadChild.js')
  const downloadProcesses = downloadChild && existsSync(downloadChild) ? createDownloadProcesses({ modulePath: downloadChild }) : null
  if (downloadChild && !downloadProcesses) platform.log(`The download process ${downloadChild} is missing from this build; models download inside the app's own process.`)
  const models = createModelsService({
    platform,
    bus,
    hosts,
    remoteDownloads: downloadProcesses ? { processes: downloadProcesses, connection: (id) => connector.downloadConnection(id) } : undefined,
    backupCheckIntervalMs: options.backupCheckIntervalMs,
    backupDebounceMs: options.backupDebounceMs,
    // Scheduled backups visit "This computer" and the SSH instances that are connected now.
    listInstanceIds: async () => {
      await instances.ready
      return instances.summaries().filter((i) => i.kind === 'local' || i.connection.status === 'connected').map((i) => i.id)
    },
  })
  const afterRun = createAfterRun({
    dataDir: platform.dataDir,
    hosts,
    backups: models.backups,
    backupFolder: models.backupFolder,
    // This computer is not in the store, and a SLURM login node is shared: neither gets a command.
    commandOf: (id) => {
      const instance = store.get(id)
      return instance?.kind === 'ssh' && instance.afterRunCommand ? instance.afterRunCommand : null
    },
    instanceName: (id) => instances.summaries().find((i) => i.id === id)?.name ?? id,
    reachable: (id) => {
      const summary = instances.summaries().find((i) => i.id === id)
      return summary !== undefined && hostHasGantry(summary)
    },
    emit: (status) => bus.emit('runs.afterRun', status, runKey(status.instanceId, status.runId)),
    notify,
    log: platform.log,
    checkIntervalMs: options.afterRunCheckIntervalMs,
  })
  const runs = createRunsService({
    bus,
    hosts,
    bundleDir: platform.bundleDir,
    instanceName: (id) => instances.summaries().find((i) => i.id === id)?.name ?? id,
    instanceSlurm: (id) => store.get(id)?.slurm ?? null,
    instancePrice: (id) => store.get(id)?.hourlyPrice ?? null,
    notify,
    log: platform.log,
    onRunLive: (instanceId, runId, how) => afterRun.armLiveRun(instanceId, runId, how !== 'found'),
    onRunStopping: (instanceId, runId) => afterRun.disarmForStop(instanceId, runId),
  })
  const terminals = createTerminalsService({ bus, hosts, log: platform.log, instanceSlurm: (id) => store.get(id)?.slurm ?? null })
  const stopBackupListener = bus.listen('runs.events', ({ instanceId, runId, events }) => {
    models.backups.onRunEvents(instanceId, runId, events)
    afterRun.onRunEvents(instanceId, runId, events)
  })
  // Live runs are followed from start-up and whenever an instance is connected and set up, so notifications and
  // event-triggered backups do not wait for a window to open the run.
  const following = new Set<string>()
  const followConnected = (list: InstanceSummary[]) => {
    for (const instance of list) {
      const askable = hostHasGantry(instance)
      if (askable && !following.has(instance.id)) {
        following.add(instance.id)
        void runs.followLiveRuns(instance.id)
        afterRun.onReachable(instance.id)
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
      capabilities: { dragOut: platform.startDrag !== null && ctx.sender !== undefined, chooseFolder: platform.chooseFolder !== null },
      secretStorage: platform.secrets.info(),
    }),
    ...instances.api,
    ...sshConfig.api,
    ...ssh.api,
    ...setup.api,
    ...runs.api,
    ...afterRun.api,
    ...terminals.api,
    ...models.api,
  }

  return {
    api,
    bus,
    router: createRouter(api, platform.log),
    hosts,
    connector,
    async dispose() {
      instances.dispose()
      connector.closeAll()
      runs.dispose()
      afterRun.dispose()
      terminals.dispose()
      stopBackupListener()
      stopFollowListener()
      await models.dispose()
      downloadProcesses?.dispose()
    },
  }
}
