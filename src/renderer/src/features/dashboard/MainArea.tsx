import { useState } from 'react'
import { InstanceHeader } from '../instances/InstanceHeader'
import { LaunchButton } from '../launch/LaunchButton'
import { SetupView } from '../instances/SetupView'
import { ModelsView } from '../models/ModelsView'
import { TerminalsView } from '../terminals/TerminalsView'
import { RunView } from './RunView'
import { useStore } from '../../store'

const TABS = [
  { id: 'training', label: 'Training' },
  { id: 'terminals', label: 'Terminals' },
  { id: 'models', label: 'Models' },
  { id: 'setup', label: 'Setup' },
] as const
export type TabId = (typeof TABS)[number]['id']

export function MainArea() {
  const instance = useStore((s) => s.instances.find((i) => i.id === s.selectedInstanceId))
  const [tab, setTab] = useState<TabId>('training')
  if (!instance) return <main className="main-area empty-state">Loading instances…</main>
  return (
    <main className="main-area">
      <InstanceHeader instance={instance} actions={<LaunchButton instance={instance} onOpenTab={setTab} />} />
      <div className="tabs" role="tablist" aria-label="Instance views">
        {TABS.map((t) => (
          <button key={t.id} role="tab" aria-selected={tab === t.id} className={`tab${tab === t.id ? ' active' : ''}`} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      {/* Views stay mounted so terminals and charts survive switching tabs. */}
      <div role="tabpanel" hidden={tab !== 'training'} className="tab-panel">
        <RunView instance={instance} onOpenTab={setTab} />
      </div>
      <div role="tabpanel" hidden={tab !== 'terminals'} className="tab-panel">
        <TerminalsView instance={instance} visible={tab === 'terminals'} />
      </div>
      <div role="tabpanel" hidden={tab !== 'models'} className="tab-panel">
        <ModelsView instance={instance} />
      </div>
      <div role="tabpanel" hidden={tab !== 'setup'} className="tab-panel">
        <SetupView instance={instance} />
      </div>
    </main>
  )
}
