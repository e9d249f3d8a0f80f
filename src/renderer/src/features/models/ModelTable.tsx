import { useState } from 'react'
import type { ModelRow, ValidationReport } from '../../../../shared/api/models'
import { api } from '../../api'
import { StatusDot } from '../../components/StatusDot'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { progressKey } from '../../store/modelsSlice'
import { formatBytes, statusView } from './format'
import { saveCopy } from './transfer'
import { WatchDialog } from './WatchDialog'

interface Props {
  instanceId: string
  runId: string
  rows: ModelRow[]
  onValidated(report: ValidationReport): void
  onValidating(file: string | null): void
}

function ModelRowView({ instanceId, runId, row, onValidated, onValidating, onWatch }: Omit<Props, 'rows'> & { row: ModelRow; onWatch(): void }) {
  const live = useStore((s) => s.modelProgress[progressKey(instanceId, runId, row.path)])
  // Undefined until app.info answers: neither drag nor the browser download is offered before.
  const dragOut = useStore((s) => s.info?.capabilities.dragOut)
  const view = statusView(row, live)
  const busy = view.label === 'Queued' || view.label.startsWith('Downloading')
  const aboutInstance = (error: unknown) => reportError(error, { instanceId })
  const ref = { instanceId, runId, path: row.path }

  const download = () => api['models.download']({ instanceId, runId, paths: [row.path] }).catch(aboutInstance)
  const cancel = () => api['models.cancel'](ref).catch(aboutInstance)
  const validate = async () => {
    onValidating(row.file)
    try {
      onValidated(await api['models.validate'](ref))
    } catch (error) {
      reportError(error)
    } finally {
      onValidating(null)
    }
  }
  // Where the platform can drag out (Electron): the main process starts a native drag of the verified file (downloading it first).
  const onDragStart = (e: React.DragEvent) => {
    if (dragOut !== true) return
    e.preventDefault()
    api['models.startDrag'](ref).catch(aboutInstance)
  }

  return (
    <tr draggable={dragOut === true} onDragStart={onDragStart} data-testid={`model-row-${row.file}`} title={dragOut ? 'Drag to your desktop or file manager' : undefined}>
      <td>{row.game}</td>
      <td>
        <span className={`kind kind-${row.kind}`}>{row.kind}</span>
      </td>
      <td className="mono col-file">{row.file}</td>
      <td className="num">{row.step ?? '—'}</td>
      <td className="num">{row.meanReturn === null ? '—' : row.meanReturn.toFixed(2)}</td>
      <td className="num">{formatBytes(row.size)}</td>
      <td className="mono muted col-sha" title={row.sha256}>
        {row.sha256.slice(0, 12)}…
      </td>
      <td>
        <span className="model-status" data-testid="model-status" title={view.detail ?? undefined}>
          <StatusDot tone={view.tone} label={view.label} />
          {view.label}
        </span>
        {view.tone === 'error' && view.detail && <div className="model-status-detail">{view.detail}</div>}
      </td>
      <td className="model-actions">
        {busy ? (
          <button className="button" onClick={cancel}>
            Cancel
          </button>
        ) : (
          <button className="button" onClick={download} disabled={view.label === 'Verified'}>
            {view.label === 'Verified' ? 'Downloaded' : 'Download'}
          </button>
        )}
        {row.kind === 'model' && (
          <>
            <button className="button" onClick={validate} disabled={busy}>
              Validate
            </button>
            <button className="button" onClick={onWatch} disabled={busy} aria-label={`Watch ${row.file} play`}>
              Watch
            </button>
          </>
        )}
        {dragOut === false && view.label === 'Verified' && (
          <button className="button" onClick={() => saveCopy(ref, row.file).catch(aboutInstance)}>
            Save a copy
          </button>
        )}
      </td>
    </tr>
  )
}

export function ModelTable(props: Props) {
  const [watching, setWatching] = useState<ModelRow | null>(null)
  if (props.rows.length === 0) return <p className="empty-state">This run has not exported any model or checkpoint yet.</p>
  return (
    <div className="models-table-scroll">
      <table className="models-table">
        <thead>
          <tr>
            <th>Game</th>
            <th>Kind</th>
            <th>File</th>
            <th className="num">Step</th>
            <th className="num">Mean return</th>
            <th className="num">Size</th>
            <th className="col-sha">sha256</th>
            <th>On this computer</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <ModelRowView key={row.path} {...props} row={row} onWatch={() => setWatching(row)} />
          ))}
        </tbody>
      </table>
      {watching && <WatchDialog instanceId={props.instanceId} runId={props.runId} row={watching} onClose={() => setWatching(null)} />}
    </div>
  )
}
