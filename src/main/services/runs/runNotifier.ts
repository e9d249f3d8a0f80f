/**
 * Turns journal events and stream health into the notifications a user wants: a game completed
 * or failed, a restart rule paused a game (a CUDA fault), the run completed, the instance unreachable for over 2 minutes, the GPU idle while
 * games wait in the queue. Each fires once per cause.
 */
import type { Notification } from '../../../shared/api/app'
import type { StreamState } from '../../../shared/api/runs'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { failureWords, repeatedFailure, type FailureRecord } from '../../../shared/repeatedFailure'

export const UNREACHABLE_NOTICE_MS = 120_000
const GPU_IDLE_UTIL = 10
const GPU_IDLE_SAMPLES = 3

export interface RunNotifier {
  /** Events from the live stream (not history replays older than `liveSinceTs`). */
  onEvents(events: RunEvent[]): Notification[]
  onTick(stream: StreamState, nowMs: number): Notification[]
}

export function createRunNotifier(instanceName: string, runId: string, liveSinceTs: number): RunNotifier {
  const queued = new Set<string>()
  const restarts = new Map<string, FailureRecord[]>()
  const fired = new Set<string>()
  let idleSamples = 0
  const once = (key: string, notice: Notification, out: Notification[]) => {
    if (fired.has(key)) return
    fired.add(key)
    out.push(notice)
  }
  return {
    onEvents(events) {
      const out: Notification[] = []
      for (const e of events) {
        switch (e.type) {
          case 'game_queued':
          case 'game_paused':
            queued.add(e.game)
            break
          case 'game_started':
          case 'game_completed':
          case 'game_failed':
          case 'game_stopped':
            queued.delete(e.game)
            break
        }
        if (e.type === 'game_restarting') restarts.set(e.game, [...(restarts.get(e.game) ?? []), { cause: e.cause, detail: e.detail }])
        // Replayed history (older than when we started watching) informs state but is not news.
        if (e.ts * 1000 < liveSinceTs) continue
        if (e.type === 'game_completed') once(`done:${e.game}`, { level: 'success', title: `${e.game} reached its target`, body: `${e.episodes} episodes on ${instanceName} (run ${runId}).` }, out)
        if (e.type === 'game_failed') once(`failed:${e.game}`, { level: 'error', title: `${e.game} failed`, body: `${e.cause}: ${e.detail ?? 'no detail'}. Open its log from the Training tab to see why.` }, out)
        if (e.type === 'game_restarting') {
          const repeated = repeatedFailure(restarts.get(e.game) ?? [])
          if (repeated) {
            once(`repeating:${e.game}:${repeated.cause}:${repeated.detail}`, { level: 'error', title: `${e.game} keeps failing the same way`, body: `${repeated.times} restarts in a row on ${instanceName} ended with: ${failureWords(repeated)}. Restarting will not fix this; open its log from the Training tab.` }, out)
          }
        }
        if (e.type === 'game_paused' && e.rule) once(`paused:${e.game}:${e.seq}`, { level: 'error', title: `${e.game} paused: ${e.cause ?? 'other'}`, body: `${e.detail ?? 'no detail'}. Its restart rule paused it because restarting would not help. Check the GPU (nvidia-smi in a terminal), then resume it from the Training tab.` }, out)
        if (e.type === 'budget' && e.status !== 'ok') {
          const unit = (v: number) => (e.unit === 'usd' ? `$${v.toFixed(2)}` : `${v.toFixed(2)} h`)
          const numbers = `${unit(e.spent)} spent${e.projected === null ? '' : `, ${unit(e.projected)} projected`}, budget ${unit(e.limit)}`
          if (e.status === 'over_projection') once('budget:projection', { level: 'warning', title: 'Run projected over budget', body: `${numbers} on ${instanceName}. At the limit the run will ${e.on_limit === 'stop' ? 'stop cleanly' : 'only warn'}.` }, out)
          else once('budget:reached', { level: e.on_limit === 'stop' ? 'error' : 'warning', title: 'Budget reached', body: `${numbers} on ${instanceName}. ${e.on_limit === 'stop' ? 'The supervisor is stopping the run cleanly (checkpoints, models); Gantry backs them up.' : 'Set to warn only: training continues.'}` }, out)
        }
        if (e.type === 'run_completed') once('run', { level: e.state === 'failed' ? 'error' : 'success', title: `Run ${e.state}`, body: `Run ${runId} on ${instanceName} is ${e.state}.` }, out)
        if (e.type === 'gpu') {
          const idle = e.gpus.length > 0 && e.gpus.every((g) => (g.util ?? 100) < GPU_IDLE_UTIL)
          idleSamples = idle && queued.size > 0 ? idleSamples + 1 : 0
          if (idleSamples >= GPU_IDLE_SAMPLES) {
            once(`idle:${Math.floor(e.ts / 3600)}`, { level: 'warning', title: 'GPU idle while games are queued', body: `${queued.size} game(s) wait on ${instanceName} but the GPU is below ${GPU_IDLE_UTIL}% use. Consider raising the slots.` }, out)
          }
        }
      }
      return out
    },
    onTick(stream, nowMs) {
      const out: Notification[] = []
      const silentFor = stream.lastHeardAt === null ? 0 : nowMs - stream.lastHeardAt
      if ((stream.status === 'stale' || stream.status === 'reconnecting') && silentFor > UNREACHABLE_NOTICE_MS) {
        once(`unreachable:${stream.lastHeardAt}`, { level: 'warning', title: `${instanceName} unreachable`, body: `No word from ${instanceName} for ${Math.round(silentFor / 60000)} minutes. Training continues on the host; Gantry keeps re-attaching.` }, out)
      }
      return out
    },
  }
}
