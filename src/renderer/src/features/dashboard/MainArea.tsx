import { InstanceHeader } from '../instances/InstanceHeader'
import { LaunchButton } from '../launch/LaunchButton'
import { SetupView } from '../instances/SetupView'
import { ModelsView } from '../models/ModelsView'
import { RunView } from './RunView'
import { useStore } from '../../store'
import type { TabId } from '../../store/uiSlice'
import { Suspense } from 'react'
import { lazyNamed } from '../../lib/lazyNamed'

const TerminalsView = lazyNamed(() => import('../terminals/TerminalsView'), 'TerminalsView')

const TABS: Array<{ id: TabId; label: string }> = [
  { id: 'training', label: 'Training' },
  { id: 'terminals', label: 'Terminals' },
  { id: 'models', label: 'Models' },
  { id: 'setup', label: 'Setup' },
]

export function MainArea() {
  const instance = useStore((s) => s.instances.find((i) => i.id === s.selectedInstanceId))
  const tab = useStore((s) => s.activeTab)
  const setTab = useStore((s) => s.openTab)
  if (!instance) return <main className="main-area empty-state">Loading instances…</main>
  return (
    <main className="main-area">
      <InstanceHeader instance={instance} actions={<LaunchButton instance={instance} />} />
      <div className="tabs" role="tablist" aria-label="Instance views">
        {TABS.map((t) => (
          <button key={t.id} role="tab" aria-selected={tab === t.id} className={`tab${tab === t.id ? ' active' : ''}`} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      {/* Views stay mounted so terminals and charts survive switching tabs. */}
      <div role="tabpanel" hidden={tab !== 'training'} className="tab-panel">
        <RunView instance={instance} />
      </div>
      <div role="tabpanel" hidden={tab !== 'terminals'} className="tab-panel">
        <Suspense fallback={null}>
          <TerminalsView instance={instance} visible={tab === 'terminals'} />
        </Suspense>
      </div>
      <div role="tabpanel" hidden={tab !== 'models'} className="tab-panel">
        {/* Keyed by instance: nothing of one instance's models (rows, reports) shows under another. */}
        <ModelsView key={instance.id} instance={instance} />
      </div>
      <div role="tabpanel" hidden={tab !== 'setup'} className="tab-panel">
        <SetupView instance={instance} />
      </div>
    </main>
  )
}
