/**
 * Follows one run's journal: `gantry_remote attach --run ID --from-seq N --follow` through a
 * HostSession, parsed line by line, resumed from the last seq after any drop (process exit,
 * SSH loss, or silence longer than the stale limit) with backoff. No gap, no duplicate.
 */
import { RpcError } from '../../../shared/rpc'
import type { StreamState } from '../../../shared/api/runs'
import { parseEventLine, type RunEvent } from '../../../shared/remoteProtocol'
import type { HostSessionLease } from '../host/hostSession'
import type { HostProcess } from '../host/hostSession'
import { gantryArgv } from '../host/gantryCli'
import { createJournalCursor, reattachDelayMs } from './journalCursor'
import { createLineSplitter } from '../host/lineSplitter'

export interface JournalAttachOptions {
  instanceId: string
  runId: string
  acquire(): Promise<HostSessionLease>
  onEvents(events: RunEvent[]): void
  onState(state: StreamState): void
  /** Silence (no event, no heartbeat) after which the stream is "stale" and re-attached. */
  staleAfterMs?: number
  now?: () => number
  log?: (line: string) => void
}

export interface JournalAttach {
  state(): StreamState
  /** Kill the current attach process (tests and benches use this to simulate a drop). */
  dropConnection(): void
  /** The run was started again after its stream ended: follow it on from the next seq. */
  followAgain(): void
  stop(): void
}

export function startJournalAttach(options: JournalAttachOptions): JournalAttach {
  const now = options.now ?? Date.now
  const staleAfterMs = options.staleAfterMs ?? 15_000
  const cursor = createJournalCursor()
  let state: StreamState = { instanceId: options.instanceId, runId: options.runId, status: 'attaching', lastSeq: 0, lastHeardAt: null, message: null, reattaches: 0 }
  let lease: HostSessionLease | null = null
  let proc: HostProcess | null = null
  let stopped = false
  let failedAttempts = 0
  let retryTimer: NodeJS.Timeout | null = null
  let runEnded = false
  let attachStartedAt = 0

  const setState = (patch: Partial<StreamState>) => {
    const next = { ...state, ...patch, lastSeq: cursor.lastSeq }
    const changed = next.status !== state.status || next.message !== state.message || next.reattaches !== state.reattaches
    state = next
    if (changed) options.onState(state)
  }

  const heard = () => {
    state = { ...state, lastHeardAt: now(), lastSeq: cursor.lastSeq }
    failedAttempts = 0
    if (state.status !== 'live') setState({ status: 'live', message: null })
  }

  const scheduleReattach = (message: string) => {
    if (stopped || retryTimer) return
    const delay = reattachDelayMs(failedAttempts++)
    setState({ status: state.status === 'stale' ? 'stale' : 'reconnecting', message: `${message} Re-attaching in ${Math.round(delay / 100) / 10} s.` })
    retryTimer = setTimeout(() => {
      retryTimer = null
      setState({ reattaches: state.reattaches + 1 })
      void attach()
    }, delay)
  }

  const staleTimer = setInterval(() => {
    if (stopped || !proc) return
    const since = state.lastHeardAt ?? attachStartedAt
    if (now() - since > staleAfterMs) {
      const at = new Date(since).toLocaleTimeString()
      setState({ status: 'stale', message: `No word from the host since ${at}.` })
      const dead = proc
      proc = null
      dead.kill()
      scheduleReattach(`No word from the host since ${at}.`)
    }
  }, Math.min(2000, staleAfterMs / 3))
  staleTimer.unref?.()

  async function attach(): Promise<void> {
    if (stopped) return
    try {
      if (!lease) lease = await options.acquire()
    } catch (error) {
      scheduleReattach(error instanceof RpcError ? error.message : `Cannot reach ${options.instanceId}.`)
      return
    }
    if (stopped) return
    let argv: string[]
    try {
      argv = gantryArgv(lease, 'attach', ['--run', options.runId, '--from-seq', String(cursor.nextFromSeq()), '--follow'])
    } catch (error) {
      setState({ status: 'failed', message: error instanceof Error ? error.message : String(error) })
      return
    }
    attachStartedAt = now()
    let child: HostProcess
    try {
      child = lease.spawn(argv)
    } catch (error) {
      lease.release()
      lease = null
      scheduleReattach(`Could not start the journal stream (${error instanceof Error ? error.message : String(error)}).`)
      return
    }
    proc = child
    const batch: RunEvent[] = []
    let stderrTail = ''
    let fatal: string | null = null
    const splitter = createLineSplitter((line) => {
      if (fatal) return
      const parsed = parseEventLine(line)
      if (parsed.kind === 'unsupported_version') {
        // Retrying cannot help: say so now (the process may take a while to go away).
        fatal = parsed.message
        if (proc === child) proc = null
        setState({ status: 'failed', message: fatal })
        child.kill()
        return
      }
      if (parsed.kind === 'invalid') {
        // The CLI prints {"error": …} for a problem it can name (unknown run, …).
        const m = /"message":\s*"([^"]+)"/.exec(line)
        if (m) fatal = m[1]
        else options.log?.(`[attach ${options.runId}] skipped line: ${parsed.message}`)
        return
      }
      if (parsed.kind === 'unknown_type') {
        if (parsed.seq !== null) cursor.accept(parsed.seq)
        heard()
        return
      }
      heard()
      const event = parsed.event
      if (event.run !== options.runId) {
        // Another run's event in this run's journal: a broken or hostile host; never shown as this run's.
        options.log?.(`[attach ${options.runId}] skipped an event of run ${event.run}`)
        return
      }
      if (!cursor.accept(event.seq)) return
      if (event.type === 'run_completed') runEnded = true
      if (event.type === 'run_started') runEnded = false
      batch.push(event)
    })
    child.onData((chunk, stream) => {
      if (proc !== child) return
      if (stream === 'stderr') {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-600)
        return
      }
      splitter.push(chunk)
      if (batch.length) options.onEvents(batch.splice(0))
    })
    child.onExit((code) => {
      splitter.end()
      if (batch.length) options.onEvents(batch.splice(0))
      const wasCurrent = proc === child
      if (wasCurrent) proc = null
      if (stopped) return
      if (fatal) {
        if (lease) lease.release()
        lease = null
        setState({ status: 'failed', message: fatal })
        return
      }
      if (!wasCurrent) return // killed by the stale watchdog, which already scheduled a re-attach
      if (code === 0 && runEnded) {
        setState({ status: 'ended', message: null })
        return
      }
      const why = stderrTail.trim().split('\n').pop()
      // A broken connection makes the lease useless: get a fresh one next time.
      lease?.release()
      lease = null
      scheduleReattach(`The journal stream stopped${code !== null ? ` (exit ${code})` : ''}${why ? `: ${why}` : ''}.`)
    })
  }

  void attach()

  return {
    state: () => ({ ...state, lastSeq: cursor.lastSeq }),
    dropConnection() {
      proc?.kill()
    },
    followAgain() {
      if (stopped || proc || retryTimer || state.status !== 'ended') return
      runEnded = false
      setState({ status: 'attaching', message: null })
      void attach()
    },
    stop() {
      stopped = true
      clearInterval(staleTimer)
      if (retryTimer) clearTimeout(retryTimer)
      proc?.kill()
      proc = null
      lease?.release()
      lease = null
    },
  }
}
