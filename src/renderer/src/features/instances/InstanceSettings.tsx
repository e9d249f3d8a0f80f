/** Connection details, the pinned host keys and the actions on them (edit, re-pin, ssh config, remove). */
import { useEffect, useState } from 'react'
import type { InstanceDetails, InstanceSummary, PinnedHostKey, SlurmSettings } from '../../../../shared/api/instances'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { KIND_LABEL } from './KindChoice'

/** What each job asks SLURM for, as sbatch options (the site's defaults for what is left empty). */
function sbatchSummary(s: SlurmSettings): string {
  const options = [
    s.partition && `--partition=${s.partition}`,
    s.account && `--account=${s.account}`,
    s.qos && `--qos=${s.qos}`,
    s.timeLimitMin !== null && `--time=${s.timeLimitMin}`,
    s.gres && `--gres=${s.gres}`,
    s.cpusPerTask !== null && `--cpus-per-task=${s.cpusPerTask}`,
    s.memMb !== null && `--mem=${s.memMb}M`,
    ...s.extraSbatch,
  ].filter(Boolean)
  return options.length ? options.join(' ') : "the site's defaults"
}

function Pin({ label, pin }: { label: string; pin: PinnedHostKey | null }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>
        {pin ? (
          <>
            {pin.keyType} <code>{pin.fingerprint}</code> <span className="muted">trusted {new Date(pin.pinnedAt).toLocaleDateString()}</span>
          </>
        ) : (
          <span className="muted">not trusted yet (asked on the next connection)</span>
        )}
      </dd>
    </>
  )
}

export function InstanceSettings({ instance, onEdit }: { instance: InstanceSummary; onEdit(): void }) {
  const [details, setDetails] = useState<InstanceDetails | null>(null)
  const [confirmRemove, setConfirmRemove] = useState(false)
  const pushToast = useStore((s) => s.pushToast)
  const reload = () => api['instances.get']({ id: instance.id }).then(setDetails, (error: unknown) => reportError(error, { instanceId: instance.id }))
  useEffect(() => {
    void api['instances.get']({ id: instance.id }).then(setDetails, (error: unknown) => reportError(error, { instanceId: instance.id }))
  }, [instance.id, instance.connection.status])
  if (!details) return null
  const auth = details.auth.kind === 'key' ? `key ${details.auth.keyPath}${details.auth.hasPassphrase ? ' (passphrase stored)' : ''}` : details.auth.kind === 'agent' ? 'SSH agent' : `password${details.auth.hasPassword ? ' (stored)' : ' (asked)'}`
  return (
    <section className="panel instance-settings">
      <header className="setup-header">
        <h2>Instance settings</h2>
        <span className="header-actions">
          <button className="button" onClick={onEdit}>
            Edit
          </button>
          <button
            className="button"
            onClick={() =>
              void api['instances.writeSshConfigEntry']({ id: instance.id }).then(
                (r) => pushToast({ level: 'success', title: 'Added to your SSH config', body: `Host ${r.alias} is in ${r.path}${r.backupPath ? `; the previous file is kept as ${r.backupPath}` : ''}.` }),
                reportError,
              )
            }
          >
            Add to ~/.ssh/config
          </button>
          <button className="button" onClick={() => void api['instances.repinHostKey']({ id: instance.id }).then(reload, (error: unknown) => reportError(error, { instanceId: instance.id }))}>
            Re-pin host key
          </button>
          {confirmRemove ? (
            <button className="button button-danger" onClick={() => void api['instances.remove']({ id: instance.id }).catch((error: unknown) => reportError(error, { instanceId: instance.id }))}>
              Really remove {instance.name}
            </button>
          ) : (
            <button className="button button-danger" onClick={() => setConfirmRemove(true)}>
              Remove
            </button>
          )}
        </span>
      </header>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{KIND_LABEL[details.kind]}</dd>
        {details.slurm && (
          <>
            <dt>Each job asks for</dt>
            <dd>
              <code data-testid="instance-sbatch">{sbatchSummary(details.slurm)}</code>
            </dd>
          </>
        )}
        <dt>{details.kind === 'slurm' ? 'Login node' : 'Address'}</dt>
        <dd>
          {details.user}@{details.host}:{details.port}
        </dd>
        <dt>Log in with</dt>
        <dd>{auth}</dd>
        {details.jump && (
          <>
            <dt>Jump host</dt>
            <dd>
              {details.jump.user}@{details.jump.host}:{details.jump.port}
            </dd>
          </>
        )}
        <dt>Gantry folder</dt>
        <dd>{details.gantryRoot}</dd>
        <Pin label="Host key" pin={details.hostKey} />
        {details.jump && <Pin label="Jump host key" pin={details.jumpHostKey} />}
        {details.notes && (
          <>
            <dt>Notes</dt>
            <dd>{details.notes}</dd>
          </>
        )}
      </dl>
    </section>
  )
}
