/**
 * Where a run's journal stream stands: the last seq delivered. Every (re)attach asks the host
 * for `--from-seq lastSeq + 1`; anything at or below lastSeq that still arrives (a replay
 * overlapping what we had) is dropped, so consumers see each seq exactly once, in order.
 */
export interface JournalCursor {
  readonly lastSeq: number
  /** The --from-seq for the next attach. */
  nextFromSeq(): number
  /** True when the event is new (and advances the cursor); false for a duplicate. */
  accept(seq: number): boolean
}

export function createJournalCursor(startAfterSeq = 0): JournalCursor {
  let lastSeq = startAfterSeq
  return {
    get lastSeq() {
      return lastSeq
    },
    nextFromSeq: () => lastSeq + 1,
    accept(seq) {
      if (seq <= lastSeq) return false
      lastSeq = seq
      return true
    },
  }
}

/** Reattach delay: 0.5 s, 1 s, 2 s … capped at 15 s; reset once events flow again. */
export function reattachDelayMs(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt))
}
