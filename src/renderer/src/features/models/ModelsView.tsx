import type { InstanceSummary } from '../../../../shared/api/instances'

export function ModelsView({ instance }: { instance: InstanceSummary }) {
  return <section className="panel empty-state">Models trained on {instance.name} will be listed here.</section>
}
