import { failureWords, repeatedFailure } from '../../../../shared/repeatedFailure'
import { useState, type ReactNode } from 'react'
import { ruleSummary } from '../../lib/restartRule'
import type { GameModel } from '../../lib/runModel'
import { formatDuration, gameFigures } from '../../lib/runMaths'

const BADGE: Record<GameModel['state'], string> = {
  queued: 'idle',
  running: 'busy',
  restarting: 'warn',
  paused: 'idle',
  completed: 'ok',
  failed: 'error',
  stopped: 'idle',
}

const fmt = (n: number | null, digits = 0) => (n === null ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits }))

/** "job 12_3 · RUNNING on gpu07 · waited 4m" / "job 12_3 · PENDING (Priority)". */
function SlurmLine({ job }: { job: NonNullable<GameModel['slurm']> }) {
  const where = job.state === 'RUNNING' && job.node ? ` on ${job.node}` : job.reason ? ` (${job.reason})` : ''
  const wait = job.queueWaitS !== null ? ` · ${job.state === 'PENDING' ? 'waiting' : 'waited'} ${formatDuration(job.queueWaitS / 3600)}` : ''
  return (
    <p className="game-slurm" data-testid="slurm-job">
      {`job ${job.jobId} · ${job.state}${where}${wait}`}
    </p>
  )
}

/** `thumbnail`: the game's live picture (GameThumbnail), in the card's top-left corner. */
export function GameCard({ game, thumbnail, onOpenLog, onPause, onResume, canControl }: { game: GameModel; thumbnail: ReactNode; onOpenLog(): void; onPause(): Promise<boolean>; onResume(): Promise<boolean>; canControl: boolean }) {
  const pct = game.target ? Math.min(100, (game.episodes / game.target) * 100) : 0
  const repeating = game.state === 'completed' ? null : repeatedFailure(game.restarts)
  const figures = gameFigures(game)
  // Pause and resume take effect when the supervisor next looks (a few seconds): say so at once,
  // until the game's state changes.
  const [asked, setAsked] = useState<{ action: 'pause' | 'resume'; state: GameModel['state'] } | null>(null)
  const waiting = asked !== null && asked.state === game.state ? asked.action : null
  const ask = (action: 'pause' | 'resume', send: () => Promise<boolean>) => {
    setAsked({ action, state: game.state })
    void send().then((ok) => ok || setAsked(null))
  }
  const restartsTitle = game.restarts.length ? game.restarts.map((r) => `#${r.attempt} ${ruleSummary(r) ?? r.cause}${r.detail ? ` — ${r.detail}` : ''}`).join('\n') : 'No restarts'
  const lastRule = game.restarts.length ? ruleSummary(game.restarts[game.restarts.length - 1]) : null
  return (
    <article className="game-card" aria-label={`${game.game} card`} data-state={game.state}>
      <button className="game-card-main" onClick={onOpenLog} title={`Open the ${game.game} log`}>
        {thumbnail}
        <div className="game-card-body">
          <div className="game-card-title">
            <strong>{game.game}</strong>
            <span className={`badge badge-${BADGE[game.state]}`}>{game.state}</span>
          </div>
          <div className="progress" role="progressbar" aria-label={`${game.game} episodes`} aria-valuemin={0} aria-valuemax={game.target ?? 0} aria-valuenow={game.episodes}>
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          <div className="game-stats">
            <span data-testid="episodes">{figures.episodes}</span>
            {figures.rate && <span data-testid="rate">{figures.rate}</span>}
            <span data-testid="eta">{figures.eta}</span>
            <span>return {fmt(game.meanReturn, 1)}</span>
            {game.gpu !== null && <span title="The GPU this game's trainer runs on">GPU {game.gpu}</span>}
            <span title={restartsTitle} className={game.restarts.length ? 'warn-text' : undefined}>
              {game.restarts.length} restart{game.restarts.length === 1 ? '' : 's'}
            </span>
          </div>
          {game.slurm && <SlurmLine job={game.slurm} />}
          {game.failure && <p className="game-failure">{`${game.failure.cause}: ${game.failure.detail ?? ''}`}</p>}
          {!game.failure && repeating && (
            <p className="game-failure" data-testid="repeated-failure">{`Failed the same way ${repeating.times} times in a row: ${failureWords(repeating)}`}</p>
          )}
          {game.pausedByRule && <p className="game-failure" data-testid="paused-by-rule">{`Paused by its restart rule (${game.pausedByRule.cause}): ${game.pausedByRule.detail ?? ''}. Resume once the GPU is fixed.`}</p>}
          {lastRule && !game.failure && <p className="warn-text" data-testid="restart-rule">{`Restart rule: ${lastRule}`}</p>}
        </div>
      </button>
      {canControl && (game.state === 'running' || game.state === 'queued' || game.state === 'restarting') && (
        <button className="button button-small" disabled={waiting === 'pause'} onClick={() => ask('pause', onPause)}>
          {waiting === 'pause' ? 'Pausing…' : 'Pause'}
        </button>
      )}
      {canControl && game.state === 'paused' && (
        <button className="button button-small" disabled={waiting === 'resume'} onClick={() => ask('resume', onResume)}>
          {waiting === 'resume' ? 'Resuming…' : 'Resume'}
        </button>
      )}
    </article>
  )
}
