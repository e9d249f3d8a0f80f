// The details form ↔ InstanceInput for both kinds: a SLURM cluster's settings typed as text
// become the contract's numbers and sbatch lines; switching the kind to an SSH host sends none.
import { describe, expect, it } from 'vitest'
import type { InstanceDetails } from '../../../../shared/api/instances'
import { emptyForm, formFromDetails, validate, type FormFields } from './instanceForm'

const cluster = (): FormFields => {
  const f = emptyForm('slurm')
  return {
    ...f,
    name: 'cluster',
    hop: { ...f.hop, host: 'login.example.edu', user: 'me', authKind: 'agent' },
    slurm: { partition: 'gpu', account: 'lab', qos: '', timeLimitMin: ' 240 ', gres: 'shard:1', cpusPerTask: '4', memMb: '', extraSbatch: '--constraint=a100\n\n  --exclusive  ' },
  }
}

describe('instance form kinds', () => {
  it('sends a SLURM cluster with its settings as numbers and one sbatch option per line', () => {
    const { input, errors } = validate(cluster())
    expect(errors).toEqual({})
    expect(input).toMatchObject({ kind: 'slurm', host: 'login.example.edu', slurm: { partition: 'gpu', account: 'lab', qos: '', timeLimitMin: 240, gres: 'shard:1', cpusPerTask: 4, memMb: null, extraSbatch: ['--constraint=a100', '--exclusive'] } })
  })

  it('switching the kind to an SSH host sends no SLURM settings', () => {
    const { input } = validate({ ...cluster(), kind: 'ssh' })
    expect(input).toMatchObject({ kind: 'ssh', slurm: null })
  })

  it('names the SLURM field that is wrong', () => {
    const f = cluster()
    const { input, errors } = validate({ ...f, slurm: { ...f.slurm, gres: 'two gpus', extraSbatch: 'constraint a100' } })
    expect(input).toBeNull()
    expect(errors['slurm.gres']).toMatch(/GPUs per job look like gpu:1/)
    expect(errors['slurm.extraSbatch.0']).toMatch(/one sbatch option/)
  })

  it('edits a saved SLURM cluster with its kind and settings as typed', () => {
    const details: InstanceDetails = {
      id: 'cluster', kind: 'slurm', name: 'cluster', host: 'login.example.edu', port: 22, user: 'me', auth: { kind: 'agent' }, jump: null, hourlyPrice: null, notes: '', afterRunCommand: '', gantryRoot: '/scratch/me/gantry', hostKey: null, jumpHostKey: null,
      slurm: { partition: 'gpu', account: '', qos: 'high', timeLimitMin: 60, gres: 'gpu:a100:1', cpusPerTask: null, memMb: 16000, extraSbatch: ['--constraint=a100'] },
    }
    const f = formFromDetails(details)
    expect(f.kind).toBe('slurm')
    expect(f.slurm).toEqual({ partition: 'gpu', account: '', qos: 'high', timeLimitMin: '60', gres: 'gpu:a100:1', cpusPerTask: '', memMb: '16000', extraSbatch: '--constraint=a100' })
    expect(validate(f).input?.slurm).toEqual(details.slurm)
  })

  it('an SSH host keeps its after-run command; a SLURM cluster never sends one; a too long one names its field', () => {
    const host: FormFields = { ...cluster(), kind: 'ssh', afterRunCommand: 'gcloud compute instances stop gpu-1 --zone=us-east1-b' }
    expect(validate(host).input?.afterRunCommand).toBe('gcloud compute instances stop gpu-1 --zone=us-east1-b')
    // Typed while it was an SSH host, then the kind switched: the cluster's login node gets no command.
    expect(validate({ ...host, kind: 'slurm' }).input?.afterRunCommand).toBe('')
    expect(validate({ ...host, afterRunCommand: 'x'.repeat(4001) }).errors).toEqual({ afterRunCommand: 'The after-run command is at most 4,000 characters.' })
    expect(formFromDetails({ ...formDetails(), afterRunCommand: 'sudo shutdown -h +5' }).afterRunCommand).toBe('sudo shutdown -h +5')
  })
})

const formDetails = (): InstanceDetails => ({
  id: 'gpu-1', kind: 'ssh', name: 'gpu-1', host: 'gpu-1.example.com', port: 22, user: 'root', auth: { kind: 'agent' }, jump: null, hourlyPrice: 2, notes: '', afterRunCommand: '', gantryRoot: '~/.gantry', hostKey: null, jumpHostKey: null, slurm: null,
})
