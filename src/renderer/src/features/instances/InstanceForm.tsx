/** Instance details with inline validation (shared zod schemas), for adding and editing. */
import type { ReactNode } from 'react'
import { useStore } from '../../store'
import { parseHostPaste } from './hostPaste'
import { hasNewSecret, type FieldErrors, type FormFields, type HopFields } from './instanceForm'
import { SlurmSettingsFields } from './SlurmSettingsFields'

export function Field({ label, error, children, hint }: { label: string; error?: string; children: ReactNode; hint?: string }) {
  return (
    <label className={`field${error ? ' field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : hint ? (
        <span className="field-hint">{hint}</span>
      ) : null}
    </label>
  )
}

function HopEditor({ prefix, hop, errors, onChange, testIdPrefix, hostLabel = 'Host' }: { prefix: string; hop: HopFields; errors: FieldErrors; onChange(next: HopFields): void; testIdPrefix: string; hostLabel?: string }) {
  const e = (k: string) => errors[prefix ? `${prefix}.${k}` : k]
  const set = (patch: Partial<HopFields>) => onChange({ ...hop, ...patch })
  // An ssh command or user@host:port, pasted (or typed, then leaving the field), fills the fields it names.
  const splitHost = (text: string): boolean => {
    const parsed = parseHostPaste(text)
    if (!parsed) return false
    set({ ...parsed, ...(parsed.keyPath ? { authKind: 'key' as const } : {}) })
    return true
  }
  const secretLabel = hop.authKind === 'key' ? 'Key passphrase (optional)' : 'Password (optional)'
  return (
    <div className="form-grid">
      <Field label={hostLabel} error={e('host')}>
        <input
          data-testid={`${testIdPrefix}host`}
          value={hop.host} placeholder="gpu-1.example.com, 203.0.113.7 or an ssh command"
          onChange={(ev) => set({ host: ev.target.value })}
          onPaste={(ev) => splitHost(ev.clipboardData.getData('text')) && ev.preventDefault()}
          onBlur={(ev) => splitHost(ev.target.value)}
        />
      </Field>
      <Field label="Port" error={e('port')}>
        <input data-testid={`${testIdPrefix}port`} value={hop.port} inputMode="numeric" onChange={(ev) => set({ port: ev.target.value })} />
      </Field>
      <Field label="User" error={e('user')}>
        <input data-testid={`${testIdPrefix}user`} value={hop.user} onChange={(ev) => set({ user: ev.target.value })} />
      </Field>
      <Field label="Log in with">
        <select data-testid={`${testIdPrefix}auth`} value={hop.authKind} onChange={(ev) => set({ authKind: ev.target.value as HopFields['authKind'], secret: '' })}>
          <option value="key">Key file</option>
          <option value="agent">SSH agent</option>
          <option value="password">Password</option>
        </select>
      </Field>
      {hop.authKind === 'key' && (
        <Field label="Private key file" error={e('keyPath')} hint="The private half, e.g. ~/.ssh/id_ed25519 (not the .pub).">
          <input data-testid={`${testIdPrefix}key-path`} value={hop.keyPath} onChange={(ev) => set({ keyPath: ev.target.value })} />
        </Field>
      )}
      {hop.authKind !== 'agent' && (
        <Field label={secretLabel} hint={hop.hasStoredSecret ? 'One is stored; leave empty to keep it.' : 'Leave empty to be asked each time you connect.'}>
          <input type="password" autoComplete="off" value={hop.secret} onChange={(ev) => set({ secret: ev.target.value })} />
        </Field>
      )}
    </div>
  )
}

export function InstanceForm({ fields, errors, onChange }: { fields: FormFields; errors: FieldErrors; onChange(next: FormFields): void }) {
  const warning = useStore((s) => s.info?.secretStorage.warning ?? null)
  const set = (patch: Partial<FormFields>) => onChange({ ...fields, ...patch })
  return (
    <div className="instance-form">
      <Field label="Name" error={errors.name}>
        <input data-testid="instance-name" value={fields.name} placeholder="gpu-1" onChange={(ev) => set({ name: ev.target.value })} />
      </Field>
      <HopEditor prefix="" hop={fields.hop} errors={errors} onChange={(hop) => set({ hop })} testIdPrefix="instance-" hostLabel={fields.kind === 'slurm' ? "Login node (the host you ssh to)" : 'Host'} />
      <label className="checkbox">
        <input type="checkbox" checked={fields.useJump} onChange={(ev) => set({ useJump: ev.target.checked })} /> Connect through a jump host (ProxyJump)
      </label>
      {fields.useJump && (
        <fieldset className="jump-fieldset">
          <legend>Jump host</legend>
          <HopEditor prefix="jump" hop={fields.jump} errors={errors} onChange={(jump) => set({ jump })} testIdPrefix="jump-" />
        </fieldset>
      )}
      {fields.kind === 'slurm' && <SlurmSettingsFields slurm={fields.slurm} errors={errors} onChange={(slurm) => set({ slurm })} />}
      <div className="form-grid">
        <Field
          label={fields.kind === 'slurm' ? 'Price per GPU-hour (optional)' : 'Hourly price (optional)'}
          error={errors.hourlyPrice}
          hint={fields.kind === 'slurm' ? "A SLURM run's cost is the GPU-hours its jobs use times this price." : 'Shows the cost so far while training.'}
        >
          <input value={fields.hourlyPrice} inputMode="decimal" placeholder="1.29" onChange={(ev) => set({ hourlyPrice: ev.target.value })} />
        </Field>
        <Field label="Gantry folder on the host" error={errors.gantryRoot} hint={fields.kind === 'slurm' ? 'Runs, venv and code live here: on the filesystem the compute nodes share.' : 'Runs, venv and code live here.'}>
          <input data-testid="instance-gantry-root" value={fields.gantryRoot} onChange={(ev) => set({ gantryRoot: ev.target.value })} />
        </Field>
      </div>
      {fields.kind === 'ssh' && (
        <Field
          label="After a run (optional)"
          error={errors.afterRunCommand}
          hint="A command Gantry runs on this host once, after a run has ended and every model is backed up and verified on this computer — e.g. your provider's CLI to stop this machine, or sudo shutdown -h +5. It runs as you wrote it, in your login shell on the host; the run's dashboard shows it and lets you cancel it until it starts."
        >
          <textarea data-testid="instance-after-run" rows={2} value={fields.afterRunCommand} placeholder="sudo shutdown -h +5" spellCheck={false} onChange={(ev) => set({ afterRunCommand: ev.target.value })} />
        </Field>
      )}
      <Field label="Notes (optional)">
        <textarea rows={2} value={fields.notes} onChange={(ev) => set({ notes: ev.target.value })} />
      </Field>
      {warning && hasNewSecret(fields) && (
        <label className="checkbox warning-text">
          <input type="checkbox" checked={fields.allowInsecureSecretStorage} onChange={(ev) => set({ allowInsecureSecretStorage: ev.target.checked })} /> Store the secret anyway. {warning}
        </label>
      )}
    </div>
  )
}
