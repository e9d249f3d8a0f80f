import type { InstanceSummary } from '../../../../shared/api/instances'
import { StatusDot, type DotTone } from '../../components/StatusDot'
import { useStore } from '../../store'

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
              onClick={() => select(instance.id)}
            >
              <StatusDot tone={connectionTone(instance)} label={instance.connection.status} />
              <span className="instance-text">
                <span className="instance-name">{instance.name}</span>
                <span className="instance-address">{instance.address}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  )
}
