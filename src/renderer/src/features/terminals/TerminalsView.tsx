import type { InstanceSummary } from '../../../../shared/api/instances'
import { useStore } from '../../store'
import { TerminalPane } from './TerminalPane'
import './terminals.css'

/**
 * Tabs of terminals for the selected instance. Every pane of every instance stays mounted
 * (hidden when not shown), so a shell or a log tail survives switching tabs and instances.
 */
export function TerminalsView({ instance, visible }: { instance: InstanceSummary; visible: boolean }) {
  const tabs = useStore((s) => s.terminalTabs)
  const active = useStore((s) => s.activeTerminalByInstance[instance.id])
  const open = useStore((s) => s.openTerminalTab)
  const close = useStore((s) => s.closeTerminalTab)
  const activate = useStore((s) => s.activateTerminalTab)
  const runId = useStore((s) => s.selectedRunByInstance[instance.id])
  const mine = tabs.filter((t) => t.instanceId === instance.id)
  return (
    <section className="terminals-view">
      <div className="terminal-tabs">
        {/* A tablist holds only tabs (axe: aria-required-children); a tab closes with its ×, or Delete while focused. */}
        {mine.length > 0 && (
          <div className="terminal-tablist" role="tablist" aria-label="Terminals">
            {mine.map((t) => (
              <button
                key={t.tabId}
                role="tab"
                className={`terminal-tab${t.tabId === active ? ' active' : ''}`}
                aria-selected={t.tabId === active}
                title={`${t.title} (Delete closes it)`}
                onClick={() => activate(instance.id, t.tabId)}
                onKeyDown={(e) => e.key === 'Delete' && close(t.tabId)}
              >
                {t.title}
                <span
                  className="terminal-tab-close"
                  aria-hidden
                  onClick={(e) => {
                    e.stopPropagation()
                    close(t.tabId)
                  }}
                >
                  ×
                </span>
              </button>
            ))}
          </div>
        )}
        <span className="terminal-new">
          <button className="button button-small" onClick={() => open({ instanceId: instance.id, kind: 'shell' })}>
            + Shell
          </button>
          <button className="button button-small" onClick={() => open({ instanceId: instance.id, kind: 'gpu' })}>
            + nvidia-smi
          </button>
          {runId && (
            <button className="button button-small" onClick={() => open({ instanceId: instance.id, kind: 'supervisor', runId })}>
              + Supervisor log
            </button>
          )}
        </span>
      </div>
      {mine.length === 0 && <p className="muted empty-state">No terminal open. Open a shell on {instance.name}, watch nvidia-smi, or click a game card on the Training tab to follow its log.</p>}
      {tabs.map((t) => (
        <TerminalPane key={t.tabId} tab={t} visible={visible && t.instanceId === instance.id && t.tabId === active} />
      ))}
    </section>
  )
}
