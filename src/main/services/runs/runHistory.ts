/**
 * The journal backlog kept in main for one run, so a renderer that (re)subscribes can back-fill
 * its dashboard. Bounded: past `maxEvents` the oldest events leave the tail, but the state they
 * imply stays exact. Beside the tail a compacted snapshot keeps, from the events that left:
 * every event that changes run or game state (run_started, game lifecycle, restarts,
 * checkpoints, exported models, slot changes, run_completed…), and only the latest of the
 * high-volume samples (each game's last progress, the last gpu, gpu_unavailable and budget). Folding
 * snapshot + tail gives the same plan name, slots, start time, game states, episodes, rates and
 * counters as folding the whole journal; `summarised` says how many events were folded away,
 * so the renderer's event count stays the journal's. Only chart history older than the tail
 * is lost.
 */
import type { RunEvent } from '../../../shared/remoteProtocol'

export interface RunHistoryPage {
  /** Snapshot events (seq order) then the tail, every seq >= fromSeq. */
  events: RunEvent[]
  /** The oldest seq still in the tail. */
  firstSeq: number
  /** Journal events with seq >= fromSeq that were compacted away (not in `events`). */
  summarised: number
}

export interface RunHistory {
  append(events: RunEvent[]): void
  since(fromSeq: number): RunHistoryPage
  /** Events held: tail plus snapshot. */
  readonly size: number
}

/** Samples where only the latest matters for state; keyed so each game keeps its own. */
function latestKey(event: RunEvent): string | null {
  if (event.type === 'progress') return `progress/${event.game}`
  if (event.type === 'gpu' || event.type === 'gpu_unavailable' || event.type === 'budget') return event.type
  return null
}

/**
 * `maxEvents` bounds the tail; `maxKept` the state events kept from before it. A real run has
 * a few thousand of those (restarts, checkpoints, exports); only a flooding host reaches the cap.
 */
export function createRunHistory(maxEvents = 100_000, maxKept = 100_000): RunHistory {
  // Chunked so dropping the oldest is O(chunk), not O(n) per event.
  const CHUNK = Math.max(1, Math.min(4096, Math.floor(maxEvents / 4)))
  const chunks: RunEvent[][] = []
  let tailSize = 0
  /** State-changing events that left the tail, in seq order (at most maxKept). */
  const kept: RunEvent[] = []
  /** The latest sample of each kind that left the tail. */
  const latest = new Map<string, RunEvent>()
  /** Seqs of every event that left the tail, as a count and a range (the journal has no gaps). */
  let dropped = 0
  let firstDropped: number | null = null

  const compact = (event: RunEvent) => {
    dropped++
    firstDropped ??= event.seq
    if (event.type === 'heartbeat') return
    const key = latestKey(event)
    if (key) latest.set(key, event)
    else {
      kept.push(event)
      // A host that floods state events cannot grow memory past the bound: the oldest go.
      if (kept.length > maxKept) kept.splice(0, kept.length - maxKept)
    }
  }

  return {
    get size() {
      return tailSize + kept.length + latest.size
    },
    append(events) {
      for (const event of events) {
        let last = chunks[chunks.length - 1]
        if (!last || last.length >= CHUNK) chunks.push((last = []))
        last.push(event)
        tailSize++
      }
      while (tailSize - (chunks[0]?.length ?? 0) >= maxEvents && chunks.length > 1) {
        const oldest = chunks.shift()!
        tailSize -= oldest.length
        for (const event of oldest) compact(event)
      }
    },
    since(fromSeq) {
      const snapshot = [...kept, ...latest.values()].filter((e) => e.seq >= fromSeq).sort((a, b) => a.seq - b.seq)
      const tail: RunEvent[] = []
      for (const chunk of chunks) {
        if (chunk[chunk.length - 1].seq < fromSeq) continue
        for (const e of chunk) if (e.seq >= fromSeq) tail.push(e)
      }
      // Dropped events at or after fromSeq: all of them, or the part of their seq range past fromSeq.
      const droppedSince = firstDropped === null || fromSeq <= firstDropped ? dropped : Math.max(0, dropped - (fromSeq - firstDropped))
      return { events: [...snapshot, ...tail], firstSeq: chunks[0]?.[0]?.seq ?? fromSeq, summarised: Math.max(0, droppedSince - snapshot.length) }
    },
  }
}
