/**
 * The journal backlog kept in main for one run, so a renderer that (re)subscribes can back-fill
 * its charts. Bounded: past `maxEvents` the oldest events are dropped (firstSeq says so).
 */
import type { RunEvent } from '../../../shared/remoteProtocol'

export interface RunHistory {
  append(events: RunEvent[]): void
  /** Events with seq >= fromSeq, and the oldest seq still kept. */
  since(fromSeq: number): { events: RunEvent[]; firstSeq: number }
  readonly size: number
}

export function createRunHistory(maxEvents = 100_000): RunHistory {
  // Chunked so dropping the oldest is O(chunk), not O(n) per event.
  const CHUNK = 4096
  const chunks: RunEvent[][] = []
  let size = 0
  return {
    get size() {
      return size
    },
    append(events) {
      for (const event of events) {
        let last = chunks[chunks.length - 1]
        if (!last || last.length >= CHUNK) chunks.push((last = []))
        last.push(event)
        size++
      }
      while (size - (chunks[0]?.length ?? 0) >= maxEvents && chunks.length > 1) size -= chunks.shift()!.length
    },
    since(fromSeq) {
      const firstSeq = chunks[0]?.[0]?.seq ?? fromSeq
      const out: RunEvent[] = []
      for (const chunk of chunks) {
        if (chunk[chunk.length - 1].seq < fromSeq) continue
        for (const e of chunk) if (e.seq >= fromSeq) out.push(e)
      }
      return { events: out, firstSeq }
    },
  }
}
