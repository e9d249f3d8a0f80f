/** The Setup tab: doctor, one-click setup with checklist + live output, and instance settings. */
import { Suspense, useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { LOCAL_INSTANCE_ID } from '../../../../shared/api/instances'
import { lazyNamed } from '../../lib/lazyNamed'
import { InstanceSettings } from './InstanceSettings'
import { DoctorSummary, SetupPanel } from './SetupPanel'
import { useStore } from '../../store'
import { useSetupProgress } from './useSetupProgress'

const AddInstanceWizard = lazyNamed(() => import('./AddInstanceWizard'), 'AddInstanceWizard')

function when(ts: number | null): string {
  return ts ? new Date(ts).toLocaleString() : 'never'
}

export function SetupView({ instance }: { instance: InstanceSummary }) {
  const progress = useSetupProgress(instance.id)
  const runDoctor = useStore((s) => s.runDoctor)
  const startSetup = useStore((s) => s.startSetup)
  const [editing, setEditing] = useState(false)
  const s = instance.setup
  return (
    <>
      <section className="panel setup-view">
        <header className="setup-header">
          <h2>Setup</h2>
          <span className="muted" data-testid="setup-status">
            {s.status === 'ready' ? `Ready (code ${s.remoteHash}, checked ${when(s.checkedAt)})` : s.status === 'failed' ? `Failed: ${s.message}` : 'Not set up yet'}
          </span>
          <span className="header-actions">
            <button className="button" disabled={progress.doctorRunning || progress.running} onClick={() => void runDoctor(instance.id)}>
              {progress.doctorRunning ? 'Checking…' : 'Check host'}
            </button>
            <button className="button button-primary" disabled={progress.running} onClick={() => void startSetup(instance.id)}>
              {progress.running ? 'Setting up…' : s.status === 'ready' ? 'Set up again' : 'Set up'}
            </button>
          </span>
        </header>
        {instance.id === LOCAL_INSTANCE_ID && <p className="muted">This computer runs the app's own copy of the host code; setup builds a Python environment in Gantry's data folder.</p>}
        {progress.doctor && <DoctorSummary report={progress.doctor} />}
        <SetupPanel instanceId={instance.id} />
      </section>
      {instance.kind !== 'local' && <InstanceSettings instance={instance} onEdit={() => setEditing(true)} />}
      <Suspense fallback={null}>{editing && <AddInstanceWizard editId={instance.id} onClose={() => setEditing(false)} />}</Suspense>
    </>
  )
}
