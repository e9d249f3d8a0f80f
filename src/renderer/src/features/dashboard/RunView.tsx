import type { InstanceSummary } from '../../../../shared/api/instances'
import { runKey } from '../../../../shared/api/runs'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { Welcome } from '../welcome/Welcome'
import { CriteriaPanel } from './CriteriaPanel'
import { GameCard } from './GameCard'
import { GameThumbnail } from './GameThumbnail'
import { RunHeader } from './RunHeader'
import { useNowS, useRunFeed } from './useRunFeed'
import './dashboard.css'
import { Suspense, useEffect, useState } from 'react'
import { AfterRunLine } from './AfterRunLine'
import { ConfirmDialog } from '../../components/ConfirmDialog'
import { lazyNamed } from '../../lib/lazyNamed'

const RunCharts = lazyNamed(() => import('./RunCharts'), 'RunCharts')

export function RunView({ instance }: { instance: InstanceSummary }) {
  const runs = useStore((s) => s.runsByInstance[instance.id])
  const runId = useStore((s) => s.selectedRunByInstance[instance.id])
  const selectRun = useStore((s) => s.selectRun)
  const onOpenTab = useStore((s) => s.openTab)
  const openTerminalTab = useStore((s) => s.openTerminalTab)
  const stream = useStore((s) => (runId ? s.streams[runKey(instance.id, runId)] : undefined))
  const { feed, revision } = useRunFeed(instance.id, runId)
  const nowS = useNowS()
  const afterRun = useStore((s) => (runId ? s.afterRuns[runKey(instance.id, runId)] : undefined))
  const [cancellingAfterRun, setCancellingAfterRun] = useState(false)
  // Read once per shown run; runs.afterRun events keep it current. This computer never has one.
  useEffect(() => {
    if (!runId || instance.kind === 'local') return
    api['runs.afterRun']({ instanceId: instance.id, runId }).then(useStore.getState().setAfterRun, (error: unknown) => reportError(error, { instanceId: instance.id }))
  }, [instance.id, instance.kind, runId])
  const cancelAfterRun = (id: string) => {
    setCancellingAfterRun(true)
    api['runs.cancelAfterRun']({ instanceId: instance.id, runId: id })
      .then(useStore.getState().setAfterRun, (error: unknown) => reportError(error, { instanceId: instance.id }))
      .finally(() => setCancellingAfterRun(false))
  }

  const [confirmStop, setConfirmStop] = useState(false)
  // The run this window asked to stop or resume, until the runs list says it happened.
  const [pending, setPending] = useState<{ runId: string; action: 'stop' | 'resume' } | null>(null)
  const summary = runs?.find((r) => r.runId === runId)
  const live = !!summary?.supervisorAlive && !feed?.model.ended
  const stopping = pending?.runId === runId && pending?.action === 'stop' && (summary?.supervisorAlive ?? false)
  const resuming = pending?.runId === runId && pending?.action === 'resume' && !summary?.supervisorAlive
  const resumable = !!summary && !summary.supervisorAlive && (summary.state === 'stopped' || summary.state === 'failed')
  /** A control request; resolves false when it failed (reported). */
  const control = (p: Promise<{ note: string | null }>): Promise<boolean> =>
    p.then(
      (r) => {
        if (r.note) useStore.getState().pushToast({ level: 'info', title: 'Request queued', body: r.note })
        return true
      },
      (error: unknown) => {
        reportError(error, { instanceId: instance.id })
        return false
      },
    )
  const stopRun = (id: string) => {
    setConfirmStop(false)
    setPending({ runId: id, action: 'stop' })
    api['runs.stop']({ instanceId: instance.id, runId: id }).catch((error: unknown) => (setPending(null), reportError(error, { instanceId: instance.id })))
  }
  const resumeRun = (id: string) => {
    setPending({ runId: id, action: 'resume' })
    api['runs.resumeRun']({ instanceId: instance.id, runId: id }).catch((error: unknown) => (setPending(null), reportError(error, { instanceId: instance.id })))
  }
  const openLog = (spec: { kind: 'log' | 'supervisor'; game?: string }) => {
    if (!runId) return
    openTerminalTab({ instanceId: instance.id, runId, ...spec })
    onOpenTab('terminals')
  }

  return (
    <div className="run-view">
      <div className="run-toolbar">
        {runs && runs.length > 0 && (
          <label className="field-inline">
            Run
            <select aria-label="Run" value={runId ?? ''} onChange={(e) => selectRun(instance.id, e.target.value)}>
              {runs.map((r) => (
                <option key={r.runId} value={r.runId}>
                  {r.runId} · {r.planName ?? 'plan'} · {r.supervisorAlive ? 'running' : (r.state ?? 'unknown')}
                </option>
              ))}
            </select>
          </label>
        )}
        {runId && live && (
          <>
            <label className="field-inline">
              Slots
              <input
                type="number"
                aria-label="Slots"
                min={1}
                max={256}
                key={feed?.model.slots ?? 0}
                defaultValue={feed?.model.slots ?? undefined}
                onKeyDown={(e) => {
                  if (e.key !== 'Enter') return
                  const slots = Number((e.target as HTMLInputElement).value)
                  if (Number.isInteger(slots) && slots >= 1) void control(api['runs.setSlots']({ instanceId: instance.id, runId, slots }))
                }}
              />
            </label>
            <button className="button button-danger" disabled={stopping} onClick={() => setConfirmStop(true)}>
              {stopping ? 'Stopping…' : 'Stop run'}
            </button>
          </>
        )}
        {runId && (resumable || resuming) && (
          <button className="button button-primary" disabled={resuming} title="Start this run again where it stopped: finished games stay finished, the others continue from their last checkpoint." onClick={() => resumeRun(runId)}>
            {resuming ? 'Resuming…' : 'Resume run'}
          </button>
        )}
        {runId && (
          <button className="button" onClick={() => openLog({ kind: 'supervisor' })}>
            Supervisor log
          </button>
        )}
      </div>

      {confirmStop && runId && (
        <ConfirmDialog title={`Stop run ${runId}?`} confirm="Stop run" onConfirm={() => stopRun(runId)} onCancel={() => setConfirmStop(false)}>
          <p>Every trainer of this run is stopped; checkpoints and exported models stay on {instance.name}. You can resume the run later: unfinished games continue from their last checkpoint.</p>
        </ConfirmDialog>
      )}

      {!runId && instance.kind === 'local' && <Welcome instance={instance} />}
      {!runId && instance.kind !== 'local' && (
        <section className="panel empty-state">
          <p>
            No run yet on {instance.name} —{' '}
            {instance.setup.status === 'ready' ? (
              <>
                <strong>Launch Training</strong> above starts the 10-game plan or the quick demo.
              </>
            ) : (
              <>
                <strong>Set up</strong> the instance first: Gantry uploads its code, installs PyTorch and runs a smoke test.
              </>
            )}
          </p>
        </section>
      )}

      {runId && feed && (
        <>
          <RunHeader instance={instance} model={feed.model} stream={stream} nowS={nowS}>
            <AfterRunLine status={afterRun} cancelling={cancellingAfterRun} onCancel={() => cancelAfterRun(runId)} />
          </RunHeader>
          {feed.model.order.length === 0 ? (
            <section className="panel empty-state">Waiting for the supervisor's first events…</section>
          ) : (
            <section className="game-grid" aria-label="Games">
              {feed.model.order.map((name) => (
                <GameCard
                  key={name}
                  game={feed.model.games.get(name)!}
                  thumbnail={<GameThumbnail key={runKey(instance.id, runId)} instanceId={instance.id} runId={runId} game={name} training={live && feed.model.games.get(name)!.state === 'running'} />}
                  canControl={live}
                  onOpenLog={() => openLog({ kind: 'log', game: name })}
                  onPause={() => control(api['runs.pause']({ instanceId: instance.id, runId, game: name }))}
                  onResume={() => control(api['runs.resume']({ instanceId: instance.id, runId, game: name }))}
                />
              ))}
            </section>
          )}
          <Suspense fallback={<section className="panel empty-state">Loading charts…</section>}>
            <RunCharts model={feed.model} revision={revision} />
          </Suspense>
          <CriteriaPanel model={feed.model} nowS={nowS} />
        </>
      )}
    </div>
  )
}
