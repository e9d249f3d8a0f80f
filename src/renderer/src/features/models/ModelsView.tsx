/**
 * The Models tab: a run's models and checkpoints with their local status, downloads (verified,
 * resumable), backups, drag-out, and local ONNX validation. The runs and the selected run are the
 * store's (the Training tab shows the same run); the view is keyed by instance, so its rows never
 * outlive the instance they came from.
 */
import { useCallback, useEffect, useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import type { ModelRow, ValidationReport } from '../../../../shared/api/models'
import { runKey } from '../../../../shared/api/runs'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { BackupPanel } from './BackupPanel'
import { ModelTable } from './ModelTable'
import { ValidationPanel } from './ValidationPanel'
import './models.css'

const LIST_CHANGING_EVENTS = new Set(['model_exported', 'checkpoint', 'game_completed', 'run_completed'])

export function ModelsView({ instance }: { instance: InstanceSummary }) {
  const runs = useStore((s) => s.runsByInstance[instance.id])
  const runId = useStore((s) => s.selectedRunByInstance[instance.id])
  const selectRun = useStore((s) => s.selectRun)
  const refreshRuns = useStore((s) => s.refreshRuns)
  const revision = useStore((s) => s.modelsRevision)
  // Rows remember the run they were listed for, so another run's files never show under this one.
  const [listed, setListed] = useState<{ runId: string; rows: ModelRow[] } | null>(null)
  const rows = listed && listed.runId === runId ? listed.rows : null
  const [loadError, setLoadError] = useState<string | null>(null)
  const [report, setReport] = useState<ValidationReport | null>(null)
  const [validating, setValidating] = useState<string | null>(null)

  const loadModels = useCallback(() => {
    if (!runId) return
    api['models.list']({ instanceId: instance.id, runId }).then(
      (list) => {
        setListed({ runId, rows: list })
        setLoadError(null)
      },
      (error: unknown) => setLoadError(error instanceof Error ? error.message : String(error)),
    )
  }, [instance.id, runId])
  useEffect(loadModels, [loadModels, revision])

  // New exports and checkpoints of the selected run refresh the list while it trains (at most every 2 s).
  useEffect(() => {
    if (!runId) return
    let timer: ReturnType<typeof setTimeout> | null = null
    const off = api.on(
      'runs.events',
      (batch) => {
        if (timer || !batch.events.some((e) => LIST_CHANGING_EVENTS.has(e.type))) return
        timer = setTimeout(() => {
          timer = null
          loadModels()
        }, 2000)
      },
      runKey(instance.id, runId),
    )
    return () => {
      off()
      if (timer) clearTimeout(timer)
    }
  }, [instance.id, runId, loadModels])

  const downloadAll = () => runId && api['models.download']({ instanceId: instance.id, runId }).catch((error: unknown) => reportError(error, { instanceId: instance.id }))
  const cancelAll = () => runId && api['models.cancel']({ instanceId: instance.id, runId }).catch((error: unknown) => reportError(error, { instanceId: instance.id }))
  const verified = rows?.filter((r) => r.local.status === 'verified').length ?? 0

  return (
    <div className="models-view">
      <section className="panel">
        <div className="models-toolbar">
          <label htmlFor="models-run">Run</label>
          <select id="models-run" value={runId ?? ''} onChange={(e) => selectRun(instance.id, e.target.value)} disabled={!runs?.length}>
            {!runs?.length && <option value="">No runs yet</option>}
            {runs?.map((r) => (
              <option key={r.runId} value={r.runId}>
                {r.runId} {r.planName ? `· ${r.planName}` : ''} {r.state ? `· ${r.state}` : ''}
              </option>
            ))}
          </select>
          <button
            className="button"
            onClick={() => {
              void refreshRuns(instance.id)
              loadModels()
            }}
          >
            Refresh
          </button>
          <span className="spacer" />
          {rows && (
            <span className="muted">
              {verified} of {rows.length} files verified on this computer
            </span>
          )}
          <button className="button" onClick={cancelAll} disabled={!runId}>
            Cancel downloads
          </button>
          <button className="button button-primary" onClick={downloadAll} disabled={!runId || !rows?.length}>
            Download all
          </button>
        </div>
        {!runs?.length && <p className="empty-state">No runs on {instance.name} yet. Launch training; its models will appear here.</p>}
        {loadError && (
          <p className="text-error" role="alert">
            {loadError}
          </p>
        )}
        {runId && rows && <ModelTable instanceId={instance.id} runId={runId} rows={rows} onValidated={setReport} onValidating={setValidating} />}
      </section>
      <ValidationPanel report={report} validating={validating} onReport={setReport} onValidating={setValidating} />
      <BackupPanel instanceId={instance.id} />
    </div>
  )
}
