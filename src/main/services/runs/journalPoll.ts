/**
 * Follows a SLURM run's journal by polling, since nothing may stay running on a cluster's login
 * node: every few seconds one short `gantry_remote sync --run ID` (SLURM's view and the jobs'
 * files → journal events), then `attach --run ID --from-seq N` without --follow, which prints the
 * new events and exits. Same contract as journalAttach: each seq once, in order, resumed from the
 * last seq after any failure; it ends after run_completed.
 */
import { RpcError } from '../../../shared/rpc'
import type { StreamState } from '../../../shared/api/runs'
import { parseEventLine, type RunEvent } from '../../../shared/remoteProtocol'
import { gantryArgv } from '../host/gantryCli'
import type { JournalAttach, JournalAttachOptions } from './journalAttach'
import { createJournalCursor, reattachDelayMs } from './journalCursor'

export const POLL_INTERVAL_MS = 3000

export function startJournalPoll(options: JournalAttachOptions & { intervalMs?: number }): JournalAttach {
  const now = options.now ?? Date.now
  const intervalMs = options.intervalMs ?? POLL_INTERVAL_MS
  const cursor = createJournalCursor()
  let state: StreamState = { instanceId: options.instanceId, runId: options.runId, status: 'attaching', lastSeq: 0, lastHeardAt: null, message: null, reattaches: 0 }
  let stopped = false
  let failures = 0
  let timer: NodeJS.Timeout | null = null

  const setState = (patch: Partial<StreamState>) => {
    const next = { ...state, ...patch, lastSeq: cursor.lastSeq }
    const changed = next.status !== state.status || next.message !== state.message || next.reattaches !== state.reattaches
    state = next
    if (changed) options.onState(state)
  }

  const schedule = (delayMs: number) => {
    if (stopped) return
    timer = setTimeout(() => {
      timer = null
      void poll()
    }, delayMs)
  }

  async function poll(): Promise<void> {
    if (stopped) return
    let ended = false
    try {
      const lease = await options.acquire()
      try {
        const sync = await lease.run(gantryArgv(lease, 'sync', ['--run', options.runId]), { timeoutMs: 60_000 })
        if (sync.code !== 0) throw new Error(lastLine(sync.stdout, sync.stderr) || `sync exited ${sync.code}`)
        const out = await lease.run(gantryArgv(lease, 'attach', ['--run', options.runId, '--from-seq', String(cursor.nextFromSeq())]), { timeoutMs: 60_000 })
        if (out.code !== 0) throw new Error(lastLine(out.stdout, out.stderr) || `attach exited ${out.code}`)
        const events: RunEvent[] = []
        for (const line of out.stdout.split('\n')) {
          if (!line.trim()) continue
          const parsed = parseEventLine(line)
          if (parsed.kind === 'unsupported_version') {
            setState({ status: 'failed', message: parsed.message })
            stopped = true
            return
          }
          if (parsed.kind === 'unknown_type') {
            if (parsed.seq !== null) cursor.accept(parsed.seq)
            continue
          }
          if (parsed.kind !== 'event' || !cursor.accept(parsed.event.seq)) continue
          if (parsed.event.type === 'run_completed') ended = true
          if (parsed.event.type === 'run_started') ended = false
          events.push(parsed.event)
        }
        if (events.length) options.onEvents(events)
      } finally {
        lease.release()
      }
      failures = 0
      state = { ...state, lastHeardAt: now(), lastSeq: cursor.lastSeq }
      setState(ended ? { status: 'ended', message: null } : { status: 'live', message: null })
      if (!ended) schedule(intervalMs)
    } catch (error) {
      const delay = Math.max(intervalMs, reattachDelayMs(failures++))
      const why = error instanceof RpcError || error instanceof Error ? error.message : String(error)
      setState({ status: 'reconnecting', message: `Polling the cluster failed: ${why} Trying again in ${Math.round(delay / 100) / 10} s.`, reattaches: state.reattaches + 1 })
      options.log?.(`[poll ${options.runId}] ${why}`)
      schedule(delay)
    }
  }

  void poll()

  return {
    state: () => ({ ...state, lastSeq: cursor.lastSeq }),
    dropConnection() {
      // Nothing stays connected between polls; the next poll starts afresh.
    },
    followAgain() {
      // Polling stopped when the run ended; the resumed run's events come with the next poll.
      if (stopped || timer || state.status !== 'ended') return
      setState({ status: 'attaching', message: null })
      void poll()
    },
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
    },
  }
}

function lastLine(stdout: string, stderr: string): string {
  const m = /"message":\s*"([^"]+)"/.exec(stdout)
  if (m) return m[1]
  return (stderr || stdout).trim().split('\n').pop()?.slice(0, 300) ?? ''
}
