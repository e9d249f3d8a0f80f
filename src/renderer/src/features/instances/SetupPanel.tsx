/** The setup checklist (rows turn green/red with the failing line) and the live output. */
import type { DoctorReport as Doctor, SetupStep } from '../../../../shared/api/setup'
import { Suspense } from 'react'
import { lazyNamed } from '../../lib/lazyNamed'
import { useSetupProgress } from './useSetupProgress'

const SetupTerminal = lazyNamed(() => import('./SetupTerminal'), 'SetupTerminal')

const ICON: Record<SetupStep['status'], string> = { pending: '○', running: '◌', ok: '✓', skip: '✓', warn: '!', fail: '✗' }

export function SetupChecklist({ steps }: { steps: SetupStep[] }) {
  if (steps.length === 0) return null
  return (
    <ol className="setup-checklist" aria-label="Setup steps">
      {steps.map((s) => (
        <li key={s.id} className={`setup-step setup-step-${s.status}`} data-step={s.id} data-status={s.status}>
          <span className="setup-step-icon" aria-hidden>
            {ICON[s.status]}
          </span>
          <span className="setup-step-label">{s.label}</span>
          <span className="setup-step-message">{s.status === 'skip' && !s.message ? 'already done' : s.message}</span>
        </li>
      ))}
    </ol>
  )
}

export function DoctorSummary({ report }: { report: Doctor }) {
  const gpus = report.gpu.gpus as Array<{ name?: string }>
  const python = (report.imports as { python?: string }).python
  return (
    <div className="doctor" data-testid="doctor-report">
      <dl className="facts">
        <dt>System</dt>
        <dd>
          {report.os} {report.arch}
        </dd>
        <dt>GPU</dt>
        <dd>{gpus.length ? gpus.map((g) => g.name ?? 'GPU').join(', ') : 'none found'}{report.gpu.driver ? ` (driver ${report.gpu.driver}, CUDA ${report.gpu.cuda ?? '?'})` : ''}</dd>
        <dt>Disk</dt>
        <dd>
          {report.disk.free_gb} GB free of {report.disk.total_gb} GB ({report.disk.path})
        </dd>
        <dt>Python</dt>
        <dd>{python ?? 'unknown'}</dd>
      </dl>
      <ul className="verdicts">
        {report.verdicts.map((v, i) => (
          <li key={i} className={`verdict verdict-${v.level}`}>
            {v.message}
          </li>
        ))}
      </ul>
    </div>
  )
}

export function SetupPanel({ instanceId }: { instanceId: string }) {
  const progress = useSetupProgress(instanceId)
  return (
    <div className="setup-panel">
      <SetupChecklist steps={progress.steps} />
      {progress.result && (
        <p className={progress.result.ok ? 'success-text' : 'error-text'} role="status">
          {progress.result.message}
          {progress.result.ok && progress.result.uploaded ? ' The host code was uploaded.' : ''}
        </p>
      )}
      <Suspense fallback={null}>
        <SetupTerminal instanceId={instanceId} />
      </Suspense>
    </div>
  )
}
