/** "After this run: <command>" in the run header, with where it stands and Cancel while it can be. */
import type { AfterRunStatus } from '../../../../shared/api/runs'

const time = (ms: number | null) => (ms === null ? 'an unknown time' : new Date(ms).toLocaleString())

function stateText(s: AfterRunStatus): string {
  switch (s.state) {
    case 'armed':
      return 'Runs once this run has ended and every model is backed up on this computer.'
    case 'waiting':
      return s.message ?? 'Waiting for backups.'
    case 'running':
      return `Running on the host since ${time(s.startedAt)}…`
    case 'started':
      return `Sent to the host at ${time(s.startedAt)}. ${s.message ?? ''}`.trim()
    case 'finished':
      if (s.exitCode === 0) return `Ran at ${time(s.startedAt)}, exit code 0.${s.message ? ` ${s.message}` : ''}`
      return `Failed at ${time(s.startedAt)}: ${s.exitCode === null ? 'no exit code' : `exit code ${s.exitCode}`}.${s.message ? ` ${s.message}` : ''}`
    case 'cancelled':
      return s.message ?? 'Cancelled.'
    default:
      return ''
  }
}

export function AfterRunLine({ status, cancelling, onCancel }: { status: AfterRunStatus | undefined; cancelling: boolean; onCancel(): void }) {
  if (!status || status.state === 'off' || status.command === null) return null
  const cancellable = status.state === 'armed' || status.state === 'waiting'
  const failed = status.state === 'finished' && status.exitCode !== 0
  return (
    <div className="after-run" data-testid="after-run" data-state={status.state} role="status">
      <div className="after-run-line">
        <span>
          After this run: <code className="after-run-command">{status.command}</code>
        </span>
        {cancellable && (
          <button className="button button-small" disabled={cancelling} onClick={onCancel} title="Nothing runs after this run. The command stays in the instance settings for later runs.">
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      <p className={failed || status.state === 'started' ? 'warn-text' : 'muted'}>{stateText(status)}</p>
      {status.output && (
        <details open={failed}>
          <summary>Output</summary>
          <pre className="after-run-output">{status.output}</pre>
        </details>
      )}
    </div>
  )
}
