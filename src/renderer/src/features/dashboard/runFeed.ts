/**
 * The live data of one run, outside React and outside the store: subscribes to the batched
 * `runs.events` and `runs.stream` topics, back-fills from `runs.history` (live batches that
 * arrive meanwhile are held and applied after it, each seq once), folds everything into a
 * RunModel with ring-buffered series, and bumps the store's revision at most 4 times a second.
 */
import { runKey } from '../../../../shared/api/runs'
import type { RunEvent } from '../../../../shared/remoteProtocol'
import { api } from '../../api'
import { applyEvents, createRunModel, type RunModel } from '../../lib/runModel'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'

const REVISION_MS = 250

export interface RunFeed {
  readonly key: string
  readonly model: RunModel
  release(): void
}

interface FeedEntry {
  feed: RunFeed
  refs: number
}

const feeds = new Map<string, FeedEntry>()

function createFeed(instanceId: string, runId: string): RunFeed {
  const key = runKey(instanceId, runId)
  const model = createRunModel(runId)
  let held: RunEvent[] | null = null
  let bumpTimer: ReturnType<typeof setTimeout> | null = null
  let disposed = false

  const bump = () => {
    if (bumpTimer || disposed) return
    bumpTimer = setTimeout(() => {
      bumpTimer = null
      useStore.getState().bumpRunRevision(key)
    }, REVISION_MS)
  }
  const apply = (events: RunEvent[]) => {
    if (applyEvents(model, events)) bump()
  }
  const backfill = () => {
    held = []
    api['runs.history']({ instanceId, runId, fromSeq: model.lastSeq + 1 })
      .then(({ events, summarised, stream }) => {
        // Events main compacted away still happened: the count stays the journal's.
        model.eventCount += summarised
        apply(events)
        const pending = held ?? []
        held = null
        apply(pending)
        useStore.getState().setStream(key, stream)
      })
      .catch((error: unknown) => {
        const pending = held ?? []
        held = null
        apply(pending)
        reportError(error)
      })
  }

  const offEvents = api.on(
    'runs.events',
    (batch) => {
      if (held) held.push(...batch.events)
      else apply(batch.events)
    },
    key,
  )
  const offStream = api.on('runs.stream', (state) => useStore.getState().setStream(key, state), key)
  let wasClosed = false
  const offStatus = api.onStatus((status) => {
    // The backend connection came back: fetch whatever was missed while it was down.
    if (status === 'closed') wasClosed = true
    else if (wasClosed) {
      wasClosed = false
      backfill()
    }
  })
  backfill()

  return {
    key,
    model,
    release() {
      disposed = true
      offEvents()
      offStream()
      offStatus()
      if (bumpTimer) clearTimeout(bumpTimer)
    },
  }
}

/** A shared feed per run; release it when the view that asked no longer shows the run. */
export function acquireRunFeed(instanceId: string, runId: string): RunFeed {
  const key = runKey(instanceId, runId)
  let entry = feeds.get(key)
  if (!entry) feeds.set(key, (entry = { feed: createFeed(instanceId, runId), refs: 0 }))
  entry.refs++
  const feed = entry.feed
  let released = false
  return Object.assign(Object.create(feed) as RunFeed, {
    release() {
      if (released) return
      released = true
      const e = feeds.get(key)
      if (e && --e.refs === 0) {
        // Kept a little while, so a quick tab switch does not refetch the whole history.
        setTimeout(() => {
          const again = feeds.get(key)
          if (again && again.refs === 0) {
            again.feed.release()
            feeds.delete(key)
          }
        }, 30_000)
      }
    },
  })
}
