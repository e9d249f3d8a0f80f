import { useEffect, useState } from 'react'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { formatTime } from './format'

const SCHEDULES = [
  { hours: 0, label: 'Off' },
  { hours: 1, label: 'Every hour' },
  { hours: 6, label: 'Every 6 hours' },
  { hours: 24, label: 'Daily' },
  { hours: 168, label: 'Weekly' },
]

export function BackupPanel({ instanceId }: { instanceId: string }) {
  const settings = useStore((s) => s.modelsSettings)
  const history = useStore((s) => s.backupHistory)
  const canChooseFolder = useStore((s) => s.info?.capabilities.chooseFolder === true)
  const [folder, setFolder] = useState('')

  useEffect(() => {
    api['models.settings']({}).then(useStore.getState().setModelsSettings, reportError)
    api['models.backupHistory']({}).then(useStore.getState().setBackupHistory, reportError)
  }, [])
  useEffect(() => setFolder(settings?.backupFolder ?? ''), [settings?.backupFolder])

  // Shown at once (a checkbox that waits for the round trip looks broken); the saved settings then
  // replace it, or the previous ones come back with the error.
  const update = (patch: Parameters<(typeof api)['models.updateSettings']>[0]) => {
    const { modelsSettings: before, setModelsSettings } = useStore.getState()
    if (before) setModelsSettings({ ...before, ...patch })
    return api['models.updateSettings'](patch).then(setModelsSettings, (error: unknown) => {
      if (before) setModelsSettings(before)
      reportError(error)
    })
  }
  const choose = async () => {
    try {
      const result = await api['models.chooseBackupFolder']({})
      useStore.getState().setModelsSettings(result.settings)
      if (!result.supported) reportError(new Error('This window cannot open a folder picker; type the folder path and press Save.'))
    } catch (error) {
      reportError(error)
    }
  }
  const [dropping, setDropping] = useState(false)
  const dropFolder = (event: React.DragEvent) => {
    event.preventDefault()
    setDropping(false)
    const item = event.dataTransfer.items[0]
    const file = event.dataTransfer.files[0]
    if (!item || !file || !item.webkitGetAsEntry()?.isDirectory) {
      reportError(new Error('Drop a folder here to make it the backup folder (to check a model, drop the .onnx file on the validation panel).'))
      return
    }
    const folderPath = api.pathOf(file)
    if (!folderPath) {
      reportError(new Error('The browser does not tell Gantry where a dropped folder is; type its path and press Save (the desktop app accepts the drop).'))
      return
    }
    void update({ backupFolder: folderPath })
  }
  const backupNow = () => api['models.backupNow']({ instanceId }).then(useStore.getState().setBackupHistory, (error: unknown) => reportError(error, { instanceId }))

  if (!settings) return <section className="panel empty-state">Loading backup settings…</section>
  const recent = history?.records.slice(0, 5) ?? []
  return (
    <section
      className={`panel backup-panel${dropping ? ' drop-target' : ''}`}
      aria-label="Backups"
      onDragOver={(e) => {
        e.preventDefault()
        setDropping(true)
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={dropFolder}
    >
      <h2>Backups</h2>
      <p className="muted">Drop a folder here to back up into it.</p>
      <div className="backup-row">
        <label htmlFor="backup-folder">Backup folder</label>
        <input id="backup-folder" className="mono backup-folder" value={folder} onChange={(e) => setFolder(e.target.value)} />
        <button className="button" disabled={folder === settings.backupFolder || !folder} onClick={() => update({ backupFolder: folder })}>
          Save
        </button>
        {canChooseFolder && (
          <button className="button" onClick={choose}>
            Choose folder…
          </button>
        )}
      </div>
      <div className="backup-row">
        <label htmlFor="backup-schedule">Automatic backup</label>
        <select id="backup-schedule" value={settings.scheduleHours} onChange={(e) => update({ scheduleHours: Number(e.target.value) })}>
          {SCHEDULES.map((s) => (
            <option key={s.hours} value={s.hours}>
              {s.label}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={settings.backupOnEvents} onChange={(e) => update({ backupOnEvents: e.target.checked })} /> when a model is exported or a game completes
        </label>
        <label className="check">
          <input type="checkbox" checked={settings.includeCheckpoints} onChange={(e) => update({ includeCheckpoints: e.target.checked })} /> include checkpoints
        </label>
      </div>
      <div className="backup-row">
        <button className="button button-primary" onClick={backupNow} disabled={history?.running}>
          {history?.running ? 'Backing up…' : 'Back up now'}
        </button>
        <span data-testid="backup-last-success">Last success: {formatTime(history?.lastSuccessAt ?? null)}</span>
        {history?.lastFailureAt && <span className="text-error">Last failure: {formatTime(history.lastFailureAt)}</span>}
        {history?.nextScheduledAt && <span className="muted">Next: {formatTime(history.nextScheduledAt)}</span>}
      </div>
      {recent.length > 0 && (
        <ul className="backup-records">
          {recent.map((r) => (
            <li key={r.id}>
              {formatTime(r.startedAt)} · {r.trigger} · {r.instanceId}
              {r.runId ? `/${r.runId}` : ''} · {r.finishedAt === null ? 'running' : `${r.downloaded} new, ${r.skipped} already safe`}
              {r.failures.length > 0 && <span className="text-error"> · {r.failures.length} failed: {r.failures[0].message}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
