import type { InstanceSummary } from '../../../../shared/api/instances'
import type { TabId } from './MainArea'

export function RunView({ instance }: { instance: InstanceSummary; onOpenTab(tab: TabId): void }) {
  return (
    <section className="panel empty-state">
      <p>No run yet on {instance.name}.</p>
    </section>
  )
}
