/** "Import from ~/.ssh/config": pick hosts; each becomes an instance (connect later to pin its key). */
import { useEffect, useState } from 'react'
import type { MethodOutput } from '../../../../shared/contract'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { useDialog } from '../../components/useDialog'

export function ImportDialog({ onClose }: { onClose(): void }) {
  const [listing, setListing] = useState<MethodOutput<'instances.sshConfigHosts'> | null>(null)
  const [picked, setPicked] = useState<Set<string>>(new Set())
  const [busy, setBusy] = useState(false)
  const selectInstance = useStore((s) => s.selectInstance)
  const ref = useDialog<HTMLDivElement>(onClose)

  useEffect(() => {
    api['instances.sshConfigHosts']({}).then(setListing, (e) => {
      reportError(e)
      onClose()
    })
  }, [onClose])

  const toggle = (alias: string) =>
    setPicked((p) => {
      const next = new Set(p)
      if (next.has(alias)) next.delete(alias)
      else next.add(alias)
      return next
    })

  const importPicked = async () => {
    setBusy(true)
    try {
      const added = await api['instances.importSshConfig']({ aliases: [...picked] })
      if (added[0]) selectInstance(added[0].id)
      onClose()
    } catch (error) {
      reportError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div ref={ref} tabIndex={-1} className="overlay" role="dialog" aria-modal="true" aria-labelledby="import-title">
      <div className="panel wizard">
        <header className="wizard-header">
          <h2 id="import-title">Import from {listing?.path ?? '~/.ssh/config'}</h2>
          <button className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {!listing && <p role="status">Reading your SSH config…</p>}
        {/* The backend's notes say why there is nothing (no such file); this line only when the file was read. */}
        {listing && listing.hosts.length === 0 && listing.notes.length === 0 && <p className="muted">No concrete Host entries were found (patterns like * cannot be imported).</p>}
        {listing && listing.hosts.length > 0 && (
          <table className="import-table">
            <thead>
              <tr>
                <th />
                <th>Host</th>
                <th>Address</th>
                <th>Key</th>
                <th>Jump</th>
              </tr>
            </thead>
            <tbody>
              {listing.hosts.map((h) => (
                <tr key={h.alias} className={h.problem ? 'muted' : ''}>
                  <td>
                    <input type="checkbox" aria-label={`Import ${h.alias}`} disabled={!!h.problem} checked={picked.has(h.alias)} onChange={() => toggle(h.alias)} />
                  </td>
                  <td>{h.alias}</td>
                  <td>
                    {h.user}@{h.hostName}:{h.port}
                    {h.problem && <div className="error-text">{h.problem}</div>}
                  </td>
                  <td>{h.identityFiles[0] ?? 'agent'}</td>
                  <td>{h.proxyJump ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {listing?.notes.map((n) => (
          <p key={n} className="muted">
            {n}
          </p>
        ))}
        <div className="dialog-actions">
          <button className="button" onClick={onClose}>
            {listing && listing.hosts.length === 0 ? 'Close' : 'Cancel'}
          </button>
          <button className="button button-primary" disabled={busy || picked.size === 0} onClick={() => void importPicked()}>
            Import {picked.size || ''}
          </button>
        </div>
      </div>
    </div>
  )
}
