import { useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { useStore } from '../../store'
import type { TabId } from '../dashboard/MainArea'
import { LaunchDialog } from './LaunchDialog'

/** One button that knows the state: set up first, open the live run, or launch a new one. */
export function LaunchButton({ instance, onOpenTab }: { instance: InstanceSummary; onOpenTab(tab: TabId): void }) {
  const runs = useStore((s) => s.runsByInstance[instance.id])
  const selectRun = useStore((s) => s.selectRun)
  const [open, setOpen] = useState(false)
  const live = runs?.find((r) => r.supervisorAlive)
  if (live) {
    return (
      <button className="button" onClick={() => (selectRun(instance.id, live.runId), onOpenTab('training'))}>
        Open run
      </button>
    )
  }
  if (instance.setup.status !== 'ready') {
    // The header's own "Set up" button is the primary action until then.
    return (
      <button className="button" onClick={() => onOpenTab('setup')} title="Gantry's code and Python environment are not on this instance yet.">
        Set up first
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
