import type { InstanceSummary } from '../../../../shared/api/instances'

export function TerminalsView({ instance }: { instance: InstanceSummary; visible: boolean }) {
  return <section className="panel empty-state">Terminals for {instance.name} will open here.</section>
}
