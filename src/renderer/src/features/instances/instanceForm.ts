/** The details form's state ↔ the contract's InstanceInput, with per-field messages from zod. */
import { InstanceInput, type AddedInstanceKind, type AuthInput, type InstanceDetails, type SlurmSettings } from '../../../../shared/api/instances'

export type AuthKind = AuthInput['kind']

export interface HopFields {
  host: string
  port: string
  user: string
  authKind: AuthKind
  keyPath: string
  /** Passphrase or password typed now; '' keeps a stored one (edit) or asks when connecting. */
  secret: string
  hasStoredSecret: boolean
}

export interface FormFields {
  /** An SSH host or a SLURM cluster (its login node's SSH details, then the SLURM settings). */
  kind: AddedInstanceKind
  name: string
  hop: HopFields
  useJump: boolean
  jump: HopFields
  hourlyPrice: string
  notes: string
  /** The after-run command (SSH hosts only; '' = none). */
  afterRunCommand: string
  gantryRoot: string
  allowInsecureSecretStorage: boolean
  /** Used when kind is "slurm". */
  slurm: SlurmFields
}

/** A SLURM cluster's settings as typed (numbers as text, extra #SBATCH lines one per line). */
export interface SlurmFields {
  partition: string
  account: string
  qos: string
  timeLimitMin: string
  gres: string
  cpusPerTask: string
  memMb: string
  extraSbatch: string
}

const emptySlurm = (): SlurmFields => ({ partition: '', account: '', qos: '', timeLimitMin: '', gres: 'gpu:1', cpusPerTask: '', memMb: '', extraSbatch: '' })

function slurmFields(s: SlurmSettings | null): SlurmFields {
  if (!s) return emptySlurm()
  const text = (n: number | null) => (n === null ? '' : String(n))
  return { partition: s.partition, account: s.account, qos: s.qos, timeLimitMin: text(s.timeLimitMin), gres: s.gres, cpusPerTask: text(s.cpusPerTask), memMb: text(s.memMb), extraSbatch: s.extraSbatch.join('\n') }
}

function slurmInput(f: SlurmFields) {
  const count = (text: string) => (text.trim() === '' ? null : Number(text.trim()))
  return {
    partition: f.partition,
    account: f.account,
    qos: f.qos,
    timeLimitMin: count(f.timeLimitMin),
    gres: f.gres,
    cpusPerTask: count(f.cpusPerTask),
    memMb: count(f.memMb),
    extraSbatch: f.extraSbatch.split('\n').map((l) => l.trim()).filter(Boolean),
  }
}

const emptyHop = (): HopFields => ({ host: '', port: '22', user: 'root', authKind: 'key', keyPath: '~/.ssh/id_ed25519', secret: '', hasStoredSecret: false })

export function emptyForm(kind: AddedInstanceKind = 'ssh'): FormFields {
  return { kind, name: '', hop: emptyHop(), useJump: false, jump: emptyHop(), hourlyPrice: '', notes: '', afterRunCommand: '', gantryRoot: '~/.gantry', allowInsecureSecretStorage: false, slurm: emptySlurm() }
}

export function formFromDetails(d: InstanceDetails): FormFields {
  const hop = (h: { host: string; port: number; user: string; auth: InstanceDetails['auth'] }): HopFields => ({
    host: h.host,
    port: String(h.port),
    user: h.user,
    authKind: h.auth.kind,
    keyPath: h.auth.kind === 'key' ? h.auth.keyPath : '~/.ssh/id_ed25519',
    secret: '',
    hasStoredSecret: (h.auth.kind === 'key' && h.auth.hasPassphrase) || (h.auth.kind === 'password' && h.auth.hasPassword),
  })
  return {
    kind: d.kind,
    name: d.name,
    hop: hop(d),
    useJump: d.jump !== null,
    jump: d.jump ? hop(d.jump) : emptyHop(),
    hourlyPrice: d.hourlyPrice === null ? '' : String(d.hourlyPrice),
    notes: d.notes,
    afterRunCommand: d.afterRunCommand,
    gantryRoot: d.gantryRoot,
    allowInsecureSecretStorage: false,
    slurm: slurmFields(d.slurm),
  }
}

function auth(h: HopFields): AuthInput {
  if (h.authKind === 'agent') return { kind: 'agent' }
  if (h.authKind === 'key') return { kind: 'key', keyPath: h.keyPath, ...(h.secret ? { passphrase: h.secret } : {}) }
  return { kind: 'password', ...(h.secret ? { password: h.secret } : {}) }
}

export function hasNewSecret(f: FormFields): boolean {
  return (f.hop.authKind !== 'agent' && f.hop.secret !== '') || (f.useJump && f.jump.authKind !== 'agent' && f.jump.secret !== '')
}

/** Field path ("host", "jump.port", "hourlyPrice") → first message. */
export type FieldErrors = Record<string, string>

export function validate(f: FormFields): { input: InstanceInput | null; errors: FieldErrors } {
  const price = f.hourlyPrice.trim()
  const candidate = {
    kind: f.kind,
    name: f.name,
    host: f.hop.host,
    port: f.hop.port,
    user: f.hop.user,
    auth: auth(f.hop),
    jump: f.useJump ? { host: f.jump.host, port: f.jump.port, user: f.jump.user, auth: auth(f.jump) } : null,
    hourlyPrice: price === '' ? null : Number(price.replace(',', '.')),
    notes: f.notes,
    afterRunCommand: f.kind === 'ssh' ? f.afterRunCommand : '',
    gantryRoot: f.gantryRoot,
    slurm: f.kind === 'slurm' ? slurmInput(f.slurm) : null,
  }
  const errors: FieldErrors = {}
  if (price !== '' && !Number.isFinite(candidate.hourlyPrice)) errors.hourlyPrice = 'The price is a number, e.g. 1.29.'
  const parsed = InstanceInput.safeParse(candidate)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.filter((p) => p !== 'auth').join('.')
      errors[key] ??= issue.message
    }
  }
  return { input: Object.keys(errors).length === 0 ? (candidate as InstanceInput) : null, errors }
}
