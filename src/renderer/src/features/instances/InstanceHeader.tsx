import type { ReactNode } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import type { TabId } from '../dashboard/MainArea'
import { connectionText, startSetup, useSetupProgress } from './setupStore'

/**
 * Name, address, connection state and the primary "Set up" button while the instance is not
 * set up. Other features add their buttons through `actions` (rendered after Set up).
 */
export function InstanceHeader({ instance, onOpenTab, actions, children }: { instance: InstanceSummary; onOpenTab(tab: TabId): void; actions?: ReactNode; children?: ReactNode }) {
  const progress = useSetupProgress(instance.id)
  const needsSetup = instance.setup.status !== 'ready'
  const c = instance.connection
  return (
    <header className="page-header instance-header">
      <h1>{instance.name}</h1>
      <span className="muted">{instance.address}</span>
      {instance.kind === 'ssh' && (
        <span className={`connection-badge connection-${c.status}`} data-testid="connection-state" title={c.message ?? undefined}>
          {connectionText(c)}
        </span>
      )}
      {instance.setup.status === 'failed' && <span className="connection-badge connection-failed">setup failed</span>}
      <span className="header-actions">
        {needsSetup && (
          <button
            className="button button-primary"
            disabled={progress.running}
            onClick={() => {
              onOpenTab('setup')
              void startSetup(instance.id)
            }}
          >
            {progress.running ? 'Setting up…' : 'Set up'}
          </button>
        )}
        {/* Other features' buttons (e.g. Launch) go here via `actions`. */}
        {actions}
        {children}
      </span>
    </header>
  )
}
