import type { InstanceSummary } from '../../../../shared/api/instances'

export function SetupView({ instance }: { instance: InstanceSummary }) {
  return <section className="panel empty-state">Setting up {instance.name} arrives with the bootstrap feature.</section>
}
