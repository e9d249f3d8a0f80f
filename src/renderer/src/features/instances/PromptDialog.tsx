/**
 * Questions from the SSH layer: trust a host key (shows the SHA256 fingerprint), or type a
 * passphrase/password. The typed secret goes straight to the backend and is not kept here.
 */
import { useEffect, useState } from 'react'
import type { PromptEvent } from '../../../../shared/api/instances'
import { useDialog } from '../../components/useDialog'
import { useStore } from '../../store'

export function PromptDialog() {
  const prompt = useStore((s) => s.prompts[0])
  return prompt ? <PromptForm key={prompt.promptId} prompt={prompt} /> : null
}

function PromptForm({ prompt }: { prompt: PromptEvent }) {
  const answerPrompt = useStore((s) => s.answerPrompt)
  const [value, setValue] = useState('')
  const [secondsLeft, setSecondsLeft] = useState(Math.round(prompt.timeoutMs / 1000))
  // Escape answers "no", like Cancel.
  const ref = useDialog<HTMLDivElement>(() => void answerPrompt(prompt.promptId, false))

  useEffect(() => {
    const until = Date.now() + prompt.timeoutMs
    const t = setInterval(() => setSecondsLeft(Math.max(0, Math.round((until - Date.now()) / 1000))), 1000)
    return () => clearInterval(t)
  }, [prompt])

  const isKey = prompt.kind === 'host_key'
  const title = isKey ? 'Trust this host key?' : prompt.kind === 'passphrase' ? 'Key passphrase' : 'Password'
  const submit = (accept: boolean) => {
    const v = value
    setValue('')
    void answerPrompt(prompt.promptId, accept, accept && !isKey ? v : undefined)
  }
  return (
<div ref={ref} tabIndex={-1} className="overlay prompt-overlay" role="dialog" aria-modal="true" aria-labelledby="prompt-title">
      <form
        className="panel prompt-dialog"
        onSubmit={(e) => {
          e.preventDefault()
          submit(true)
        }}
      >
        <h2 id="prompt-title">{title}</h2>
        <p>{prompt.message}</p>
        {isKey && (
          <dl className="fingerprint">
            <dt>Host</dt>
            <dd>{prompt.host}</dd>
            <dt>Key type</dt>
            <dd>{prompt.keyType}</dd>
            <dt>Fingerprint</dt>
            <dd>
              <code data-testid="host-key-fingerprint">{prompt.fingerprint}</code>
            </dd>
          </dl>
        )}
        {!isKey && <input type="password" autoComplete="off" aria-label={title} value={value} onChange={(e) => setValue(e.target.value)} />}
        <div className="dialog-actions">
          <span className="muted">Answer within {secondsLeft} s</span>
          <button type="button" className="button" onClick={() => submit(false)}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={!isKey && !value}>
            {isKey ? 'Trust' : 'Unlock'}
          </button>
        </div>
      </form>
    </div>
  )
}
