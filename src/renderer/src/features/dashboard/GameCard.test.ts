// The game card says which restart rule fired and what it changed, from journal lines parsed
// with the app's schemas (the first is the golden fixture's OOM restart).
import golden from '../../../../../remote/tests/fixtures/events.v1.jsonl?raw'
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { parseEventLine, type RunEvent } from '../../../../shared/remoteProtocol'
import { applyEvents, createRunModel, type GameModel } from '../../lib/runModel'
import { GameCard } from './GameCard'

const parse = (lines: string[]): RunEvent[] => lines.map(parseEventLine).flatMap((p) => (p.kind === 'event' ? [p.event] : []))
const card = (game: GameModel) => renderToStaticMarkup(createElement(GameCard, { game, thumbnail: null, onOpenLog() {}, onPause: async () => true, onResume: async () => true, canControl: true })).replace(/&gt;/g, '>')
const run = '20251229-140000-a1b2'

describe('GameCard restart rules', () => {
  it('names the rule and the change of the last restart', () => {
    const oom = golden.split('\n').find((l) => l.includes('"rule":"fewer_envs"'))!
    const model = createRunModel(run)
    applyEvents(model, parse([oom]))
    const html = card(model.games.get('Enduro')!)
    expect(html).toContain('Restart rule: oom → fewer envs: num_envs 256 → 128')
    expect(html).toContain('title="#2 oom → fewer envs: num_envs 256 → 128 — torch.OutOfMemoryError')
  })

  it('says when a rule changed nothing, and shows a pause by rule until the game runs again', () => {
    const line = (seq: number, rest: object) => JSON.stringify({ v: 1, ts: seq, run, seq, ...rest })
    const model = createRunModel(run)
    applyEvents(model, parse([
      line(1, { type: 'game_restarting', game: 'freeway', cause: 'oom', attempt: 3, exit_code: 3, detail: 'CUDA out of memory', delay_s: 1, rule: 'fewer_envs', changes: [], note: 'num_envs is already at the floor (8); restarting unchanged' }),
      line(2, { type: 'game_paused', game: 'asterix', cause: 'cuda', detail: 'CUDA error: an illegal memory access was encountered', rule: 'pause' }),
    ]))
    expect(card(model.games.get('freeway')!)).toContain('Restart rule: oom → fewer envs (num_envs is already at the floor (8); restarting unchanged)')
    const asterix = model.games.get('asterix')!
    expect(card(asterix)).toContain('Paused by its restart rule (cuda): CUDA error: an illegal memory access was encountered. Resume once the GPU is fixed.')
    applyEvents(model, parse([line(3, { type: 'game_resumed', game: 'asterix' }), line(4, { type: 'game_started', game: 'asterix', pid: 9, attempt: 2, resumed_from_checkpoint: true })]))
    expect(card(asterix)).not.toContain('Paused by its restart rule')
  })

  it('an older host that names no rule shows the restart as before', () => {
    const model = createRunModel(run)
    applyEvents(model, parse([JSON.stringify({ v: 1, ts: 1, run, seq: 1, type: 'game_restarting', game: 'pong', cause: 'crash', attempt: 2, exit_code: 1, detail: 'boom', delay_s: 10 })]))
    const html = card(model.games.get('pong')!)
    expect(html).not.toContain('Restart rule')
    expect(html).toContain('1 restart')
  })
})
