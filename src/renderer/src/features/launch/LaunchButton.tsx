import { useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { useStore } from '../../store'
import { useSetupProgress } from '../instances/useSetupProgress'
import { LaunchDialog } from './LaunchDialog'

/** One button that knows the state: set up first, open the live run, or launch a new one. */
export function LaunchButton({ instance }: { instance: InstanceSummary }) {
  const runs = useStore((s) => s.runsByInstance[instance.id])
  const selectRun = useStore((s) => s.selectRun)
  const onOpenTab = useStore((s) => s.openTab)
  const startSetup = useStore((s) => s.startSetup)
  const [open, setOpen] = useState(false)
  const setup = useSetupProgress(instance.id)
  const live = runs?.find((r) => r.supervisorAlive)
  if (live) {
    return (
      <button className="button" onClick={() => (selectRun(instance.id, live.runId), onOpenTab('training'))}>
        Open run
      </button>
    )
  }
  if (instance.setup.status !== 'ready') {
    return (
      <button
        className="button button-primary"
        disabled={setup.running}
        title="Gantry's code and Python environment are not on this instance yet: this uploads and installs them."
        onClick={() => {
          onOpenTab('setup')
          void startSetup(instance.id)
        }}
      >
        {setup.running ? 'Setting up…' : 'Set up now'}
      </button>
    )
  }
  return (
    <>
      <button className="button button-primary" onClick={() => setOpen(true)}>
        Launch Training
      </button>
      {open && <LaunchDialog instance={instance} onClose={() => setOpen(false)} onLaunched={() => (setOpen(false), onOpenTab('training'))} />}
    </>
  )
}
