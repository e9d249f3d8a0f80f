/**
 * First run on "This computer": three steps that each say what happens next, so a new user
 * sees real training in minutes without a GPU host — or adds one.
 */
import { useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { useSetupProgress } from '../instances/useSetupProgress'
import { LaunchDialog } from '../launch/LaunchDialog'
import { useStore } from '../../store'

export function Welcome({ instance }: { instance: InstanceSummary }) {
  const progress = useSetupProgress(instance.id)
  const [launching, setLaunching] = useState(false)
  const openAddInstance = useStore((s) => s.setAddInstanceOpen)
  const onOpenTab = useStore((s) => s.openTab)
  const startSetup = useStore((s) => s.startSetup)
  const ready = instance.setup.status === 'ready'
  return (
    <section className="panel welcome" aria-label="Welcome">
      <h2>Welcome to Gantry</h2>
      <p className="muted">
        Train agents on this computer right now with the built-in games, or add a rented GPU machine. Training keeps going if you close Gantry; your
        models come back verified.
      </p>
      <ol className="welcome-steps">
        <li className={ready ? 'done' : ''}>
          <div>
            <strong>Set up this computer</strong>
            <span className="muted">
              {ready ? 'Ready.' : 'Checks Python and creates a small environment for training (reuses PyTorch when it is already installed).'}
            </span>
          </div>
          {!ready && (
            <button
              className="button button-primary"
              disabled={progress.running}
              onClick={() => {
                onOpenTab('setup')
                void startSetup(instance.id)
              }}
            >
              {progress.running ? 'Setting up…' : 'Set up'}
            </button>
          )}
        </li>
        <li>
          <div>
            <strong>Try the quick demo</strong>
            <span className="muted">4 built-in games learn side by side for about 5 minutes; watch the charts, open their logs, keep the models.</span>
          </div>
          {/* One primary action per screen: Set up until this computer is ready, then the demo. */}
          <button className={`button${ready ? ' button-primary' : ''}`} disabled={!ready} title={ready ? undefined : 'Set up this computer first.'} onClick={() => setLaunching(true)}>
            Try the quick demo
          </button>
        </li>
        <li>
          <div>
            <strong>Add a GPU instance</strong>
            <span className="muted">Any machine you can reach over SSH: Gantry checks its host key, sets it up and runs the same training there.</span>
          </div>
          <button className="button" onClick={() => openAddInstance(true)}>
            Add a GPU instance
          </button>
        </li>
      </ol>
      {launching && <LaunchDialog instance={instance} onClose={() => setLaunching(false)} onLaunched={() => (setLaunching(false), onOpenTab('training'))} />}
    </section>
  )
}
