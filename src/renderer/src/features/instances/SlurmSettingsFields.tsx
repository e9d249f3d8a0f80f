/** The "SLURM cluster" part of the instance form: where the run's job array goes and what each job asks for. */
import { Field as Row } from './InstanceForm'
import type { FieldErrors, SlurmFields } from './instanceForm'

export function SlurmSettingsFields({ slurm, errors, onChange }: { slurm: SlurmFields; errors: FieldErrors; onChange(next: SlurmFields): void }) {
  const set = (patch: Partial<SlurmFields>) => onChange({ ...slurm, ...patch })
  const e = (key: string) => errors[`slurm.${key}`]
  return (
    <fieldset className="jump-fieldset" aria-label="SLURM cluster">
      <legend>SLURM cluster</legend>
      <p className="muted">
        Runs go to SLURM as one job array (one job per game); nothing stays running on the login node. The Gantry folder must be on the filesystem the compute nodes share. Empty fields keep the site&apos;s defaults.
      </p>
      <div className="form-grid">
        <Row label="Partition" error={e('partition')}>
          <input data-testid="slurm-partition" value={slurm.partition} placeholder="gpu" onChange={(ev) => set({ partition: ev.target.value })} />
        </Row>
        <Row label="Account" error={e('account')}>
          <input data-testid="slurm-account" value={slurm.account} onChange={(ev) => set({ account: ev.target.value })} />
        </Row>
        <Row label="QoS" error={e('qos')}>
          <input data-testid="slurm-qos" value={slurm.qos} onChange={(ev) => set({ qos: ev.target.value })} />
        </Row>
        <Row label="Time limit per job (minutes)" error={e('timeLimitMin')} hint="Jobs checkpoint and requeue themselves before it.">
          <input data-testid="slurm-time" inputMode="numeric" value={slurm.timeLimitMin} onChange={(ev) => set({ timeLimitMin: ev.target.value })} />
        </Row>
        <Row label="GPUs per job" error={e('gres')} hint="gpu:1 for a whole GPU, shard:1 for a GPU shard; empty for CPU only.">
          <input data-testid="slurm-gres" value={slurm.gres} onChange={(ev) => set({ gres: ev.target.value })} />
        </Row>
        <Row label="CPUs per job" error={e('cpusPerTask')}>
          <input data-testid="slurm-cpus" inputMode="numeric" value={slurm.cpusPerTask} onChange={(ev) => set({ cpusPerTask: ev.target.value })} />
        </Row>
        <Row label="Memory per job (MB)" error={e('memMb')}>
          <input data-testid="slurm-mem" inputMode="numeric" value={slurm.memMb} onChange={(ev) => set({ memMb: ev.target.value })} />
        </Row>
      </div>
      <Row label="Extra #SBATCH lines" error={Object.entries(errors).find(([k]) => k.startsWith('slurm.extraSbatch'))?.[1]} hint="One sbatch option per line, e.g. --constraint=a100.">
        <textarea data-testid="slurm-extra" rows={2} value={slurm.extraSbatch} onChange={(ev) => set({ extraSbatch: ev.target.value })} />
      </Row>
    </fieldset>
  )
}
