/**
 * The setup domain: the pre-flight doctor and the one-click setup of an instance, on This
 * computer or over SSH, with the live output and checklist streamed as setup.* events and the
 * outcome recorded on the instance.
 */
import path from 'node:path'
import type { SFTPWrapper } from 'ssh2'
import { LOCAL_INSTANCE_ID, type SetupState, type SlurmSettings } from '../../../shared/api/instances'
import type * as setupApi from '../../../shared/api/setup'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { HostRegistry } from '../host/hostRegistry'
import { slurmSchedulerBlock } from '../runs/slurmScheduler'
import { runDoctor, runSetup, type BootstrapTarget } from './bootstrap'
import { hashBundle } from './remoteBundle'

export interface SetupServiceOptions {
  bus: EventBus
  hosts: HostRegistry
  /** SFTP on an SSH instance's live connection, for the bundle upload (createServices passes the connector's). */
  sftp(instanceId: string): Promise<SFTPWrapper>
  /** Folder holding `remote/`, the code that is uploaded. */
  bundleDir: string
  /** Where the outcome of a setup is kept (the instance list). */
  recordSetup(instanceId: string, setup: SetupState): Promise<void>
  /** Python reused for "This computer" — env GANTRY_PYTHON. */
  localPython?: string | null
  /** Python for setup.sh on SSH hosts (default: its own choice) — env GANTRY_SETUP_PYTHON. */
  setupPython?: string | null
  /** Extra pip arguments for setup.sh — env GANTRY_SETUP_PIP_ARGS. */
  setupPipArgs?: string | null
  /** A SLURM cluster instance's settings: its doctor also checks the cluster (doctor --slurm). */
  instanceSlurm?(instanceId: string): SlurmSettings | null
}

/** The doctor's test job asks for what each game's job will ask for (the run's scheduler block). */
function slurmDoctorArgs(slurm: SlurmSettings | null): string[] {
  if (!slurm) return []
  return ['--slurm', '--scheduler', JSON.stringify(slurmSchedulerBlock(slurm))]
}

export function createSetupService(options: SetupServiceOptions) {
  const { bus, hosts } = options
  const settingUp = new Set<string>()

  /** Runs `fn` with a bootstrap target for the instance (local or ssh). */
  const withTarget = async <T>(id: string, fn: (target: BootstrapTarget) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const bundle = await hashBundle(path.join(options.bundleDir, 'remote'))
    const lease = await hosts.acquire(id, signal)
    try {
      return await fn({ session: lease, sftp: id === LOCAL_INSTANCE_ID ? null : () => options.sftp(id), bundle })
    } finally {
      lease.release()
    }
  }

  const api: DomainImpl<typeof setupApi.methods> = {
    'setup.doctor': async ({ id }, ctx) => {
      const slurm = options.instanceSlurm?.(id) ?? null
      // A SLURM cluster's test job streams into the instance's setup terminal as it arrives.
      const onOutput = (data: string) => bus.emit('setup.output', { instanceId: id, data }, id)
      if (slurm) onOutput(`\x1b[36mChecking the cluster: a one-minute test job on a compute node (cancelled if it waits too long)\x1b[0m\r\n`)
      return withTarget(id, (target) => runDoctor(target, id === LOCAL_INSTANCE_ID ? (options.localPython ?? 'python3') : 'python3', slurmDoctorArgs(slurm), onOutput, ctx.signal), ctx.signal)
    },
    'setup.run': async ({ id }, ctx) => {
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
              onOutput: (data) => bus.emit('setup.output', { instanceId: id, data }, id),
              onSteps: (steps, running) => bus.emit('setup.steps', { instanceId: id, steps, running }, id),
            }),
          ctx.signal,
        )
        await options.recordSetup(id, { status: result.ok ? 'ready' : 'failed', remoteHash: result.remoteHash, checkedAt: Date.now(), message: result.ok ? null : result.message })
        return result
      } finally {
        settingUp.delete(id)
      }
    },
  }
  return { api }
}
