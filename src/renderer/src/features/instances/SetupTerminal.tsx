/** Read-only xterm showing an instance's setup output (replays what arrived before it mounted). */
import { FitAddon } from '@xterm/addon-fit'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useEffect, useRef } from 'react'
import { setupOutput } from '../../store/setupOutput'

export function SetupTerminal({ instanceId }: { instanceId: string }) {
  const host = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const term = new Terminal({ disableStdin: true, convertEol: false, scrollback: 3000, fontSize: 12, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', theme: { background: '#0b0d12' } })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(host.current!)
    const refit = () => {
      if (host.current && host.current.offsetWidth > 0) fit.fit()
    }
    refit()
    term.write(setupOutput.get(instanceId))
    const off = setupOutput.subscribe(instanceId, (data) => term.write(data))
    const observer = new ResizeObserver(refit)
    observer.observe(host.current!)
    return () => {
      off()
      observer.disconnect()
      term.dispose()
    }
  }, [instanceId])
  return <div className="setup-terminal" ref={host} data-testid="setup-terminal" />
}
