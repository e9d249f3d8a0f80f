/**
 * "+ Add instance": kind (GPU host or SLURM cluster) and details → test connection (the host-key prompt shows the fingerprint) →
 * doctor → optional ~/.ssh/config entry → set up. Also used to edit an instance (starts at details).
 */
import { Suspense, useEffect, useState } from 'react'
import type { MethodOutput } from '../../../../shared/contract'
import { RpcError } from '../../../../shared/rpc'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { InstanceForm } from './InstanceForm'
import { emptyForm, formFromDetails, validate, type FieldErrors, type FormFields } from './instanceForm'
import { DoctorSummary, SetupPanel } from './SetupPanel'
import { useSetupProgress } from './useSetupProgress'
import { useDialog } from '../../components/useDialog'
import { KindChoice } from './KindChoice'
import { lazyNamed } from '../../lib/lazyNamed'

const SetupTerminal = lazyNamed(() => import('./SetupTerminal'), 'SetupTerminal')

type Step = 'details' | 'connect' | 'doctor' | 'sshconfig' | 'setup'
const STEPS: Array<[Step, string]> = [
  ['details', 'Details'],
  ['connect', 'Connect'],
  ['doctor', 'Check host'],
  ['sshconfig', 'SSH config'],
  ['setup', 'Set up'],
]

export function AddInstanceWizard({ editId, onClose }: { editId?: string; onClose(): void }) {
  const selectInstance = useStore((s) => s.selectInstance)
  const [step, setStep] = useState<Step>('details')
  const [fields, setFields] = useState<FormFields>(emptyForm)
  const [errors, setErrors] = useState<FieldErrors>({})
  const [submitted, setSubmitted] = useState(false)
  const [id, setId] = useState<string | null>(editId ?? null)
  const [busy, setBusy] = useState(false)
  const [connection, setConnection] = useState<MethodOutput<'instances.testConnection'> | null>(null)
  const [connectError, setConnectError] = useState<string | null>(null)
  const [configResult, setConfigResult] = useState<MethodOutput<'instances.writeSshConfigEntry'> | null>(null)
  const progress = useSetupProgress(id ?? '')
  const runDoctor = useStore((s) => s.runDoctor)
  const startSetup = useStore((s) => s.startSetup)
  const ref = useDialog<HTMLDivElement>(onClose)

  useEffect(() => {
    if (editId) api['instances.get']({ id: editId }).then((d) => setFields(formFromDetails(d)), reportError)
  }, [editId])

  const change = (next: FormFields) => {
    setFields(next)
    if (submitted) setErrors(validate(next).errors)
  }

  const testConnection = async (target: string) => {
    setBusy(true)
    setConnectError(null)
    setConnection(null)
    try {
      setConnection(await api['instances.testConnection']({ id: target }))
    } catch (error) {
      setConnectError(error instanceof Error ? error.message : String(error))
    } finally {
      setBusy(false)
    }
  }

  const saveDetails = async () => {
    setSubmitted(true)
    const { input, errors: found } = validate(fields)
    setErrors(found)
    if (!input) return
    setBusy(true)
    try {
      const saved = id
        ? await api['instances.update']({ id, instance: input, allowInsecureSecretStorage: fields.allowInsecureSecretStorage })
        : await api['instances.add']({ instance: input, allowInsecureSecretStorage: fields.allowInsecureSecretStorage })
      setId(saved.id)
      selectInstance(saved.id)
      setFields((f) => ({ ...f, hop: { ...f.hop, secret: '' }, jump: { ...f.jump, secret: '' } }))
      setStep('connect')
      setBusy(false)
      void testConnection(saved.id)
    } catch (error) {
      setBusy(false)
      if (error instanceof RpcError && error.code === 'invalid_input') setErrors({ form: error.message })
      else reportError(error)
    }
  }

  const goDoctor = () => {
    setStep('doctor')
    if (id) void runDoctor(id)
  }

  return (
    <div ref={ref} tabIndex={-1} className="overlay" role="dialog" aria-modal="true" aria-labelledby="wizard-title">
      <div className="panel wizard">
        <header className="wizard-header">
          <h2 id="wizard-title">{editId ? 'Edit instance' : 'Add an instance'}</h2>
          <ol className="wizard-steps">
            {STEPS.map(([s, label]) => (
              <li key={s} className={s === step ? 'current' : ''}>
                {label}
              </li>
            ))}
          </ol>
          <button className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>

        {step === 'details' && (
          <>
            {/* The first choice: what is being added decides the rest of the form. */}
            <KindChoice kind={fields.kind} onChange={(kind) => change({ ...fields, kind })} />
            <InstanceForm fields={fields} errors={errors} onChange={change} />
            {errors.form && (
              <p className="error-text" role="alert">
                {errors.form}
              </p>
            )}
            <div className="dialog-actions">
              <button className="button" onClick={onClose}>
                Cancel
              </button>
              <button className="button button-primary" disabled={busy} onClick={() => void saveDetails()}>
                {editId ? 'Save and test connection' : 'Add and test connection'}
              </button>
            </div>
          </>
        )}

        {step === 'connect' && (
          <>
            {busy && <p role="status">Connecting to {fields.hop.host}… If this is the first connection, check the host key fingerprint in the dialog and click Trust.</p>}
            {connection && (
              <div className="success-text" role="status" data-testid="connection-ok">
                <p>
                  Connected in {connection.latencyMs} ms to <strong>{connection.system}</strong>.
                </p>
                <p>
                  Host key {connection.keyType} <code>{connection.fingerprint}</code> is pinned; Gantry will refuse a different key.
                </p>
                <p>
                  Encrypted with <code data-testid="connection-cipher">{connection.cipher}</code>.
                </p>
              </div>
            )}
            {connectError && (
              <p className="error-text" role="alert">
                {connectError}
              </p>
            )}
            <div className="dialog-actions">
              <button className="button" onClick={() => setStep('details')} disabled={busy}>
                Back
              </button>
              {connectError && (
                <button className="button" onClick={() => id && void testConnection(id)}>
                  Try again
                </button>
              )}
              <button className="button button-primary" disabled={!connection} onClick={goDoctor}>
                Check the host
              </button>
            </div>
          </>
        )}

        {step === 'doctor' && id && (
          <>
            {progress.doctorRunning && (
              <p role="status">
                {fields.kind === 'slurm'
                  ? "Uploading Gantry's host code and checking the login node and the cluster (SLURM, partitions, shared folder), then a one-minute test job on a compute node; its output appears below as it arrives. Nothing is installed yet."
                  : "Uploading Gantry's host code and checking the host (OS, GPU, driver, disk, Python)… Nothing is installed yet."}
              </p>
            )}
            {progress.doctor && <DoctorSummary report={progress.doctor} />}
            {fields.kind === 'slurm' && (
              <Suspense fallback={null}>
                <SetupTerminal instanceId={id} />
              </Suspense>
            )}
            <div className="dialog-actions">
              <button className="button" disabled={progress.doctorRunning} onClick={() => void runDoctor(id)}>
                Check again
              </button>
              <button className="button button-primary" disabled={progress.doctorRunning} onClick={() => setStep('sshconfig')}>
                Next
              </button>
            </div>
          </>
        )}

        {step === 'sshconfig' && id && (
          <>
            <p>
              Optionally add <code>{id}</code> to your <code>~/.ssh/config</code> so <code>ssh {id}</code> works in your own terminal, with the same pinned host key. Gantry writes only its own marked block and
              keeps a backup of the previous file.
            </p>
            {configResult && (
              <p className="success-text" role="status">
                Added Host {configResult.alias} to {configResult.path}
                {configResult.backupPath ? ` (previous file kept as ${configResult.backupPath})` : ' (it was already up to date)'}.
              </p>
            )}
            <div className="dialog-actions">
              <button className="button" disabled={busy || !!configResult} onClick={() => void api['instances.writeSshConfigEntry']({ id }).then(setConfigResult, reportError)}>
                Add to ~/.ssh/config
              </button>
              <button className="button button-primary" onClick={() => setStep('setup')}>
                Next
              </button>
            </div>
          </>
        )}

        {step === 'setup' && id && (
          <>
            <p>Set up installs a Python environment with PyTorch and the game backends on the host, then runs a short training as a smoke test. Output streams below.</p>
            <SetupPanel instanceId={id} />
            <div className="dialog-actions">
              {/* One primary action: "Set up now" until set-up succeeded, then "Done". */}
              <button className={`button${progress.result?.ok ? ' button-primary' : ''}`} onClick={onClose}>
                {progress.result?.ok ? 'Done' : 'Close (set up later)'}
              </button>
              <button className={`button${progress.result?.ok ? '' : ' button-primary'}`} disabled={progress.running} onClick={() => void startSetup(id)}>
                {progress.running ? 'Setting up…' : progress.result ? 'Set up again' : 'Set up now'}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  )
}
