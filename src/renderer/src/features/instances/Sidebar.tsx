import { Suspense, useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { StatusDot, type DotTone } from '../../components/StatusDot'
import { useStore } from '../../store'
import { lazyNamed } from '../../lib/lazyNamed'
import { PromptDialog } from './PromptDialog'
import { connectionText } from './connectionText'
import { KIND_LABEL } from './KindChoice'
import './instances.css'

const AddInstanceWizard = lazyNamed(() => import('./AddInstanceWizard'), 'AddInstanceWizard')
const ImportDialog = lazyNamed(() => import('./ImportDialog'), 'ImportDialog')

function connectionTone(instance: InstanceSummary): DotTone {
  switch (instance.connection.status) {
    case 'connected':
      return 'ok'
    case 'connecting':
    case 'reconnecting':
      return 'busy'
    case 'failed':
      return 'error'
    default:
      return 'idle'
  }
}

export function Sidebar() {
  const instances = useStore((s) => s.instances)
  const selected = useStore((s) => s.selectedInstanceId)
  const select = useStore((s) => s.selectInstance)
  const [importing, setImporting] = useState(false)
  const addOpen = useStore((s) => s.addInstanceOpen)
  const setAddOpen = useStore((s) => s.setAddInstanceOpen)
  return (
    <nav className="sidebar" aria-label="Instances">
      <div className="brand">
        <span className="brand-mark" aria-hidden>
          ◢
        </span>
        Gantry
      </div>
      <h2 className="sidebar-heading">Instances</h2>
      <ul className="instance-list">
        {instances.map((instance) => (
          <li key={instance.id}>
            <button
              className={`instance-item${instance.id === selected ? ' selected' : ''}`}
              aria-current={instance.id === selected ? 'page' : undefined}
              data-instance-id={instance.id}
              data-connection={instance.connection.status}
              onClick={() => select(instance.id)}
            >
              <StatusDot tone={connectionTone(instance)} label={connectionText(instance.connection)} />
              <span className="instance-text">
                <span className="instance-name">{instance.name}</span>
                {instance.kind !== 'local' && (
                  <span className="instance-kind" data-testid="instance-kind">
                    {KIND_LABEL[instance.kind]}
                  </span>
                )}
                <span className="instance-address">{instance.kind !== 'local' && instance.connection.status !== 'idle' && instance.connection.status !== 'connected' ? connectionText(instance.connection) : instance.address}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-actions">
        <button className="button button-primary" onClick={() => setAddOpen(true)}>
          + Add instance
        </button>
        <button className="button" onClick={() => setImporting(true)}>
          Import from ~/.ssh/config
        </button>
      </div>
      <Suspense fallback={null}>
        {addOpen && <AddInstanceWizard onClose={() => setAddOpen(false)} />}
        {importing && <ImportDialog onClose={() => setImporting(false)} />}
      </Suspense>
      <PromptDialog />
    </nav>
  )
}
