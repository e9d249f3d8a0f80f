/**
 * The seed's success criteria, evaluated live from the run model. Each says met, on track, at
 * risk, failed, or not applicable (no GPU on this host) with a sentence of evidence.
 */
import { failureWords, repeatedFailure } from '../../../shared/repeatedFailure'
import { gpuUtilisation, type RunModel } from './runModel'
import { projectedRemainingHours, uptimeS } from './runMaths'

export type CriterionStatus = 'met' | 'on_track' | 'at_risk' | 'failed' | 'na'

export interface Criterion {
  id: 'targets' | 'gpu_errors' | 'gpu_util' | 'time' | 'checkpoints' | 'hands_off'
  label: string
  status: CriterionStatus
  detail: string
}

export const UTIL_TARGET = 90
export const TIME_LIMIT_H = 72

export function evaluateCriteria(model: RunModel, nowS: number): Criterion[] {
  const games = [...model.games.values()]
  const ended = model.ended !== null
  const hasGpu = model.gpu.names.length > 0
  const out: Criterion[] = []

  const done = games.filter((g) => g.state === 'completed').length
  const failed = games.filter((g) => g.state === 'failed' || g.state === 'stopped')
  // Restarts cannot fix a trainer that fails the same way each time: red now, not at the last retry.
  const looping = games.flatMap((g) => {
    const r = g.state === 'completed' || g.state === 'failed' || g.state === 'stopped' ? null : repeatedFailure(g.restarts)
    return r ? [`${g.game} failed the same way ${r.times} times in a row: ${failureWords(r)}`] : []
  })
  out.push({
    id: 'targets',
    label: 'All games reach their target',
    status: games.length > 0 && done === games.length ? 'met' : failed.length || looping.length ? 'failed' : ended ? 'failed' : 'on_track',
    detail: `${done} of ${games.length} games done${failed.length ? `; ${failed.map((g) => `${g.game} ${g.state}`).join(', ')}` : ''}${looping.length ? `; ${looping.join('; ')}` : ''}.`,
  })

  if (!hasGpu) {
    const reason = model.gpu.unavailable ? ` (${model.gpu.unavailable})` : ''
    out.push({ id: 'gpu_errors', label: 'No GPU errors', status: 'na', detail: `Not applicable on CPU${reason}.` })
    out.push({ id: 'gpu_util', label: `GPU utilisation ≥ ${UTIL_TARGET}%`, status: 'na', detail: 'Not applicable on CPU.' })
  } else {
    const errors = model.gpu.errors
    out.push({
      id: 'gpu_errors',
      label: 'No GPU errors',
      status: errors.length ? 'failed' : ended ? 'met' : 'on_track',
      detail: errors.length ? `${errors.length} GPU error(s); last: ${errors[errors.length - 1].reason}` : `None so far on ${model.gpu.names.join(', ')}.`,
    })
    const util = gpuUtilisation(model)
    const ok = util !== null && util >= UTIL_TARGET
    out.push({
      id: 'gpu_util',
      label: `GPU utilisation ≥ ${UTIL_TARGET}%`,
      status: ok ? (ended ? 'met' : 'on_track') : ended ? 'failed' : 'at_risk',
      detail: util === null ? 'No samples yet.' : `${util.toFixed(1)}% time-weighted so far.`,
    })
  }

  const elapsedH = uptimeS(model, nowS) / 3600
  const remaining = ended ? 0 : projectedRemainingHours(games, model.slots ?? 1)
  const projected = remaining === null ? null : elapsedH + remaining
  out.push({
    id: 'time',
    label: `Total time under ${TIME_LIMIT_H} h`,
    status: projected === null ? (elapsedH >= TIME_LIMIT_H ? 'failed' : 'on_track') : projected < TIME_LIMIT_H ? (ended ? 'met' : 'on_track') : ended || elapsedH >= TIME_LIMIT_H ? 'failed' : 'at_risk',
    detail: projected === null ? `${elapsedH.toFixed(1)} h so far; projection once every game reports a rate.` : `${projected.toFixed(1)} h ${ended ? 'in total' : 'projected'}.`,
  })

  const missing = games.filter((g) => g.checkpoints === 0)
  out.push({
    id: 'checkpoints',
    label: 'Checkpoints saved for every game',
    status: missing.length === 0 && games.length > 0 ? 'met' : ended ? 'failed' : 'on_track',
    detail: missing.length ? `Waiting for ${missing.map((g) => g.game).join(', ')}.` : 'Every game has a checkpoint.',
  })

  const manual = model.manualInterventions
  const needsYou = games.filter((g) => g.state !== 'completed' && g.state !== 'failed' && g.state !== 'stopped' && repeatedFailure(g.restarts)).map((g) => `${g.game} needs you (it keeps failing the same way; see its card)`)
  const handsOff = [...manual.map((m) => m.what), ...needsYou]
  out.push({
    id: 'hands_off',
    label: 'No manual intervention',
    status: handsOff.length ? 'failed' : ended ? 'met' : 'on_track',
    detail: handsOff.length ? handsOff.join('; ') : 'The supervisor handled everything so far.',
  })
  return out
}
