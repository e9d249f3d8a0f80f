import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon } from '@xterm/addon-search'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useEffect, useRef, useState } from 'react'
import type { TerminalTab } from '../../store/terminalsSlice'
import { loadBestRenderer, type TerminalRendererKind } from './terminalRenderer'
import { TerminalSession, type TerminalSessionStatus } from './terminalSession'

export const SCROLLBACK_LINES = 5000

/** Only http(s) links open, in a new window without access to this one. */
export function openSafeLink(uri: string): void {
  try {
    const url = new URL(uri)
    if (url.protocol === 'http:' || url.protocol === 'https:') window.open(url.href, '_blank', 'noopener,noreferrer')
  } catch {
    // not a URL: ignore
  }
}

export function TerminalPane({ tab, visible }: { tab: TerminalTab; visible: boolean }) {
  const host = useRef<HTMLDivElement>(null)
  const fitRef = useRef<FitAddon | null>(null)
  const searchRef = useRef<SearchAddon | null>(null)
  const termRef = useRef<Terminal | null>(null)
  const sessionRef = useRef<TerminalSession | null>(null)
  const [status, setStatus] = useState<TerminalSessionStatus>({ state: 'opening', message: null })
  const [query, setQuery] = useState('')
  const [renderer, setRenderer] = useState<{ kind: TerminalRendererKind; reason: string | null } | null>(null)

  useEffect(() => {
    const term = new Terminal({
      scrollback: SCROLLBACK_LINES,
      convertEol: tab.kind === 'log' || tab.kind === 'supervisor',
      cursorBlink: tab.kind === 'shell',
      disableStdin: tab.kind !== 'shell',
      fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
      fontSize: 13,
      theme: { background: '#0b0d12' },
      linkHandler: { activate: (_event, text) => openSafeLink(text), allowNonHttpProtocols: false },
    })
    const fit = new FitAddon()
    const search = new SearchAddon()
    term.loadAddon(fit)
    term.loadAddon(search)
    term.loadAddon(new WebLinksAddon((_event, uri) => openSafeLink(uri)))
    term.attachCustomKeyEventHandler((e) => {
      // Ctrl+Shift+C / Ctrl+Shift+V: copy and paste without sending ^C / ^V to the host.
      if (e.type === 'keydown' && e.ctrlKey && e.shiftKey && e.code === 'KeyC') {
        void navigator.clipboard?.writeText(term.getSelection())
        return false
      }
      if (e.type === 'keydown' && e.ctrlKey && e.shiftKey && e.code === 'KeyV') {
        void navigator.clipboard?.readText().then((text) => term.paste(text))
        return false
      }
      return true
    })
    term.open(host.current!)
    loadBestRenderer(term, (kind, reason) => setRenderer({ kind, reason }))
    if (host.current!.offsetWidth > 0) fit.fit()
    termRef.current = term
    fitRef.current = fit
    searchRef.current = search
    const session = new TerminalSession(tab, term, setStatus)
    sessionRef.current = session
    void session.open()
    const observer = new ResizeObserver(() => {
      if (host.current && host.current.offsetWidth > 0) fit.fit()
    })
    observer.observe(host.current!)
    return () => {
      observer.disconnect()
      session.dispose()
      term.dispose()
    }
  }, [tab])

  useEffect(() => {
    if (visible && host.current && host.current.offsetWidth > 0) {
      fitRef.current?.fit()
      termRef.current?.focus()
    }
  }, [visible])

  const find = (backwards: boolean) => {
    if (!query) return
    if (backwards) searchRef.current?.findPrevious(query)
    else searchRef.current?.findNext(query)
  }

  return (
    <div className="terminal-pane" hidden={!visible} data-terminal-kind={tab.kind} data-status={status.state} data-renderer={renderer?.kind} data-renderer-reason={renderer?.reason ?? undefined}>
      <div className="terminal-toolbar">
        <input type="search" placeholder="Search output" aria-label={`Search ${tab.title}`} value={query} onChange={(e) => setQuery(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && find(e.shiftKey)} />
        <button className="button button-small" onClick={() => find(true)} aria-label="Previous match">
          ↑
        </button>
        <button className="button button-small" onClick={() => find(false)} aria-label="Next match">
          ↓
        </button>
        <span className="muted terminal-hint">{tab.kind === 'shell' ? 'Ctrl+Shift+C / Ctrl+Shift+V to copy / paste' : 'read-only'}</span>
        {(status.state === 'exited' || status.state === 'error') && (
          <button className="button button-small" onClick={() => void sessionRef.current?.open()}>
            Reopen
          </button>
        )}
      </div>
      {status.state === 'error' && (
        <p className="form-error" role="alert">
          {status.message}
        </p>
      )}
      <div className="terminal-host" ref={host} role="log" aria-label={`${tab.title} terminal`} />
    </div>
  )
}
