/**
 * The Models tab: a run's models and checkpoints with their local status, downloads (verified,
 * resumable), backups, drag-out, and local ONNX validation.
 */
import { useCallback, useEffect, useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import type { ModelRow, ValidationReport } from '../../../../shared/api/models'
import { runKey, type RunSummary } from '../../../../shared/api/runs'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { BackupPanel } from './BackupPanel'
import { ModelTable } from './ModelTable'
import { ValidationPanel } from './ValidationPanel'
import { hostHasGantry } from '../../../../shared/hostReady'
import './models.css'

const LIST_CHANGING_EVENTS = new Set(['model_exported', 'checkpoint', 'game_completed', 'run_completed'])

export function ModelsView({ instance }: { instance: InstanceSummary }) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null)
  const [runId, setRunId] = useState<string | undefined>(undefined)
  const revision = useStore((s) => s.modelsRevision)
  const [rows, setRows] = useState<ModelRow[] | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [report, setReport] = useState<ValidationReport | null>(null)
  const [validating, setValidating] = useState<string | null>(null)

  const canAsk = hostHasGantry(instance)
  const loadRuns = useCallback(() => {
    if (!canAsk) return
    api['runs.list']({ instanceId: instance.id }).then((list) => {
      setRuns(list)
      // Newest run first, unless the user picked one that still exists.
      setRunId((current) => (list.some((r) => r.runId === current) ? current : list[0]?.runId))
    }, reportError)
  }, [instance.id, canAsk])
  // The runs slice changes on launch, stop and completion: refresh the list with it.
  const knownRuns = useStore((s) => s.runsByInstance[instance.id])
  useEffect(loadRuns, [loadRuns, knownRuns])

  const loadModels = useCallback(() => {
    if (!runId) return
    api['models.list']({ instanceId: instance.id, runId }).then(
      (list) => {
        setRows(list)
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

  const downloadAll = () => runId && api['models.download']({ instanceId: instance.id, runId }).catch(reportError)
  const cancelAll = () => runId && api['models.cancel']({ instanceId: instance.id, runId }).catch(reportError)
  const verified = rows?.filter((r) => r.local.status === 'verified').length ?? 0

  return (
    <div className="models-view">
      <section className="panel">
        <div className="models-toolbar">
          <label htmlFor="models-run">Run</label>
          <select id="models-run" value={runId ?? ''} onChange={(e) => setRunId(e.target.value)} disabled={!runs?.length}>
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
              loadRuns()
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
