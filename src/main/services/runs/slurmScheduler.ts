/** A SLURM cluster instance's settings → the plan's scheduler block (remote/PROTOCOL.md, "Scheduler seam"). */
import type { SlurmSettings } from '../../../shared/api/instances'
import type { SlurmScheduler } from '../../../shared/remoteProtocol'

export function slurmSchedulerBlock(settings: SlurmSettings): SlurmScheduler {
  const name = (value: string) => (value.trim() ? value.trim() : null)
  return {
    kind: 'slurm',
    partition: name(settings.partition),
    account: name(settings.account),
    qos: name(settings.qos),
    time_limit_min: settings.timeLimitMin,
    gres: name(settings.gres),
    cpus_per_task: settings.cpusPerTask,
    mem_mb: settings.memMb,
    extra_sbatch: settings.extraSbatch.map((line) => line.trim()).filter(Boolean),
  }
}
