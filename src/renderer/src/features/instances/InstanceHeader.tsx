import type { InstanceSummary } from '../../../../shared/api/instances'
import type { TabId } from '../dashboard/MainArea'

export function InstanceHeader({ instance }: { instance: InstanceSummary; onOpenTab(tab: TabId): void }) {
  return (
    <header className="page-header">
      <h1>{instance.name}</h1>
      <span className="muted">{instance.address}</span>
    </header>
  )
}
