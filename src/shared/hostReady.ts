import type { InstanceSummary } from './api/instances'

/**
 * Whether the host's Gantry CLI can be asked anything (runs, models). This computer always has
 * the app's own copy; an SSH host only after setup uploaded it.
 */
export function hostHasGantry(instance: InstanceSummary): boolean {
  return instance.connection.status === 'connected' && (instance.kind === 'local' || instance.setup.status === 'ready')
}
