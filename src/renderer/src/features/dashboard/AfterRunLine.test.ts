// The run header's "After this run" line in each state the services report (AfterRunStatus,
// parsed with the contract's schema), with Cancel only while the command has not started.
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { AfterRunStatus } from '../../../../shared/api/runs'
import { AfterRunLine } from './AfterRunLine'

const base = { instanceId: 'gpu-1', runId: 'run-1', command: 'sudo shutdown -h +5', message: null, startedAt: null, finishedAt: null, exitCode: null, output: null }
const render = (status: Partial<AfterRunStatus>) =>
  renderToStaticMarkup(createElement(AfterRunLine, { status: AfterRunStatus.parse({ ...base, ...status }), cancelling: false, onCancel() {} }))
const started = Date.UTC(2026, 10, 30, 22, 0)

describe('AfterRunLine', () => {
  it('shows nothing when no command runs after this run', () => {
    expect(render({ state: 'off', command: null })).toBe('')
    expect(renderToStaticMarkup(createElement(AfterRunLine, { status: undefined, cancelling: false, onCancel() {} }))).toBe('')
  })

  it('armed and waiting for backups: the command, why it waits, and Cancel', () => {
    const armed = render({ state: 'armed' })
    expect(armed).toContain('After this run: <code class="after-run-command">sudo shutdown -h +5</code>')
    expect(armed).toContain('Runs once this run has ended and every model is backed up on this computer.')
    expect(armed).toContain('>Cancel</button>')
    const waiting = render({ state: 'waiting', message: 'Waiting for backups: 2 of 6 files are not verified on this computer (breakout/breakout-10.onnx, …).' })
    expect(waiting).toContain('data-state="waiting"')
    expect(waiting).toContain('Waiting for backups: 2 of 6 files are not verified')
    expect(waiting).toContain('>Cancel</button>')
  })

  it('running, ran, failed with its output, started without an outcome, cancelled: no Cancel', () => {
    const running = render({ state: 'running', startedAt: started })
    expect(running).toContain(`Running on the host since ${new Date(started).toLocaleString()}`)
    const ran = render({ state: 'finished', startedAt: started, finishedAt: started + 1000, exitCode: 0, output: 'Shutdown scheduled' })
    expect(ran).toContain(`Ran at ${new Date(started).toLocaleString()}, exit code 0.`)
    expect(ran).toContain('<details><summary>Output</summary><pre class="after-run-output">Shutdown scheduled</pre></details>')
    const failed = render({ state: 'finished', startedAt: started, exitCode: 1, output: 'sudo: a password is required' })
    expect(failed).toContain('class="warn-text">Failed at')
    expect(failed).toContain('exit code 1.')
    expect(failed).toContain('<details open="">') // a failure shows its output at once
    const lost = render({ state: 'started', startedAt: started, message: 'It started on the host, but no outcome came back.' })
    expect(lost).toContain('It started on the host, but no outcome came back.')
    expect(lost).toContain(`Sent to the host at ${new Date(started).toLocaleString()}.`)
    const cancelled = render({ state: 'cancelled', message: 'You stopped this run, so its after-run command does not run.' })
    expect(cancelled).toContain('You stopped this run')
    for (const html of [running, ran, failed, lost, cancelled]) expect(html).not.toContain('Cancel</button>')
  })

  it('shows a command with markup in it as text', () => {
    expect(render({ state: 'armed', command: 'echo "<b>done</b>" && poweroff' })).toContain('echo &quot;&lt;b&gt;done&lt;/b&gt;&quot; &amp;&amp; poweroff')
  })
})
