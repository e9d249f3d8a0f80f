export type DotTone = 'ok' | 'busy' | 'warn' | 'error' | 'idle'

export function StatusDot({ tone, label }: { tone: DotTone; label: string }) {
  return <span className={`status-dot status-dot-${tone}`} role="img" aria-label={label} title={label} />
}
